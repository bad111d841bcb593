//! `fangops history`: an environment's deploys, newest first.

use crate::exit;
use crate::release::history::HistoryRequest;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Show at most N deploys.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl HistoryArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = HistoryRequest {
            artifact_bucket: self.artifact_bucket,
            limit: self.limit,
        };
        let report = crate::release::history::run(&target, &req).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
