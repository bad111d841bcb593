//! `fangops rollback`: the stack as an earlier, verified deploy left it.

use std::time::Duration;

use crate::exit;
use crate::release::rollback::RollbackRequest;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Restore row N of `fangops history` (1 = newest) instead of the newest deploy
    /// that verified.
    #[arg(long, value_name = "N")]
    pub to: Option<usize>,
    /// Do not verify the restored stack.
    #[arg(long)]
    pub no_verify: bool,
    /// Give up waiting for the stack after this many seconds (it goes on in AWS).
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    /// The artifact bucket holding the deploy records (default:
    /// fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl RollbackArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = RollbackRequest {
            artifact_bucket: self.artifact_bucket,
            to: self.to,
            verify: !self.no_verify,
            options: super::verify::verify_options(ctx)?,
            timeout: Duration::from_secs(self.timeout),
        };
        let report = crate::release::rollback::run(&target, &req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.on_target() {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}
