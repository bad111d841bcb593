//! `fangops run`: the pipeline once, waited for.

use std::time::Duration;

use crate::exit;
use crate::run::RunRequest;
use anyhow::Result;

use super::Ctx;
use super::common::{EnvArg, PreviewArg};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Give up waiting for results after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
    #[command(flatten)]
    pub preview: PreviewArg,
}

impl RunArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, self.preview.existing())?;
        let req = RunRequest {
            timeout: Duration::from_secs(self.timeout),
            wikipedia_base: ctx.process.wikipedia_base.clone(),
            comprehend_endpoint: ctx.process.comprehend_endpoint()?,
            canary: None,
        };
        let report = crate::run::run(&target, &req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.ok() {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}
