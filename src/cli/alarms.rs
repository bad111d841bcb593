//! `fangops alarms`: the env file's CloudWatch alarms and dashboard.

use crate::exit;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Show the alarm changes (add / change / remove); write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl AlarmsArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let report = crate::alarms::run(&target, self.dry_run).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
