//! `fangops plan`: what a deploy would change, as plain text (`--out` writes the
//! markdown), optionally as the environment's pull-request comment.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit;
use crate::plan::PlanRequest;
use crate::target::Preview;
use anyhow::Result;

use super::common::{ArtifactArgs, CommentArgs, EnvArg};
use super::{Ctx, write_out};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    /// Give up waiting for the change set after this many seconds.
    #[arg(long, default_value_t = 600, value_name = "S")]
    pub timeout: u64,
    /// Exit 3 when the plan has changes (0 when none).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the plan (markdown) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compare the companies with the env file at this git revision when the live
    /// table cannot be read, and the cost; `file:PATH` compares with another env file
    /// [default in Actions: origin/$GITHUB_BASE_REF].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    #[command(flatten)]
    pub comment: CommentArgs,
}

impl PlanArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let delivery = self.comment.delivery(ctx)?;
        let target = self.env.target(ctx, Preview::None)?;
        let req = PlanRequest {
            artifacts: self.artifacts.source(ctx),
            artifact_bucket: self.artifacts.artifact_bucket,
            timeout: Duration::from_secs(self.timeout),
            base: self.base.or_else(|| ctx.process.base_revision()),
            wikipedia_base: ctx.process.wikipedia_base.clone(),
        };
        let report = crate::plan::plan(&target, &req, &ctx.ui).await?;
        let markdown = report.render_markdown();
        write_out(self.out.as_deref(), &markdown)?;
        match delivery {
            Some(delivery) => {
                let body =
                    crate::report::comment::plan_comment(&report, delivery.target.sha.as_deref());
                crate::comment::post(&delivery, &report.env, &body, &ctx.ui).await?;
                if ctx.ui.json {
                    ctx.ui.report(&report, String::new);
                }
            }
            None => ctx.ui.report(&report, || report.render()),
        }
        Ok(if self.detailed_exitcode && report.has_changes() {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    }
}
