//! `fangops drift`: the live environment against the repository.

use std::time::Duration;

use crate::drift::DriftRequest;
use crate::exit;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Give up waiting for CloudFormation's drift detection after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
}

impl DriftArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = DriftRequest {
            timeout: Duration::from_secs(self.timeout),
        };
        let report = crate::drift::drift(&target, &req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.drifted {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    }
}
