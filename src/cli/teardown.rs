//! `fangops teardown`: an environment removed, without a prompt.

use std::time::Duration;

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::exit;
use fangops::teardown::TeardownRequest;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Required: teardown never prompts.
    #[arg(long)]
    pub yes: bool,
    /// A protected environment also needs its stack's name here.
    #[arg(long, value_name = "STACK")]
    pub confirm: Option<String>,
    /// Also empty and delete the artifact bucket (shared by the account's stacks).
    #[arg(long)]
    pub artifacts: bool,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
    /// Give up waiting for the stack's deletion after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    /// Tear down pull request N's preview of the environment, not the environment.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=9_999_999), conflicts_with_all = ["artifacts", "confirm"])]
    pub preview: Option<u64>,
}

impl TeardownArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = TeardownRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            yes: self.yes,
            confirm: self.confirm,
            artifacts: self.artifacts,
            artifact_bucket: self.artifact_bucket,
            timeout: Duration::from_secs(self.timeout),
            preview: self.preview,
        };
        let report = fangops::teardown::teardown(&req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
