//! `fangops alarms`: the env file's CloudWatch alarms and dashboard.

use anyhow::Result;
use fangops::alarms::AlarmsRequest;
use fangops::config::EnvRef;
use fangops::exit;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Show the alarm changes (add / change / remove); write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl AlarmsArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = AlarmsRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            dry_run: self.dry_run,
        };
        let report = fangops::alarms::run(&req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
