//! `fangops doctor`: can fangops act on this environment?

use crate::exit;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub env: EnvArg,
}

impl DoctorArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let report = crate::doctor::run(&target, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.ok {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}
