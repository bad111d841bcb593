//! `fangops teardown`: an environment removed, without a prompt.

use std::time::Duration;

use crate::exit;
use crate::teardown::TeardownRequest;
use anyhow::Result;

use super::Ctx;
use super::common::{EnvArg, PreviewArg};

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Required: teardown never prompts.
    #[arg(long)]
    pub yes: bool,
    /// A protected environment also needs its stack's name here.
    #[arg(long, value_name = "STACK", conflicts_with = "preview")]
    pub confirm: Option<String>,
    /// Also empty and delete the artifact bucket (shared by the account's stacks).
    #[arg(long, conflicts_with = "preview")]
    pub artifacts: bool,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
    /// Give up waiting for the stack's deletion after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    #[command(flatten)]
    pub preview: PreviewArg,
}

impl TeardownArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, self.preview.existing())?;
        let req = TeardownRequest {
            yes: self.yes,
            confirm: self.confirm,
            artifacts: self.artifacts,
            artifact_bucket: self.artifact_bucket,
            timeout: Duration::from_secs(self.timeout),
        };
        let report = crate::teardown::teardown(&target, &req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
