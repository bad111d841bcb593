//! `fangops sync`: the companies table made equal to the env file's list.

use std::time::Duration;

use crate::companies::sync::SyncOptions;
use crate::exit;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete even when that is more of the table than `sync.max_delete_percent`.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// BatchWriteItem calls in flight at once.
    #[arg(long, default_value_t = crate::companies::sync::DEFAULT_CONCURRENCY as u16, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Give up after this many seconds (a sync run again resumes).
    #[arg(long, default_value_t = 600, value_name = "S")]
    pub timeout: u64,
}

impl SyncArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let options = SyncOptions {
            dry_run: self.dry_run,
            allow_mass_delete: self.allow_mass_delete,
            concurrency: self.concurrency.into(),
            timeout: Duration::from_secs(self.timeout),
        };
        let report = crate::companies::sync::run(&target, options, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
