//! `fangops history`: an environment's deploys, newest first.

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::exit;
use fangops::history::HistoryRequest;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Show at most N deploys.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl HistoryArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = HistoryRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            artifact_bucket: self.artifact_bucket,
            limit: self.limit,
        };
        let report = fangops::history::run(&req).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
