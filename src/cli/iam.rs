//! `fangops iam`: the IAM roles fangops runs under, filled in for one environment.

use crate::exit;
use crate::iam::IamRequest;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct IamArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The repository whose workflows assume the roles [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", value_parser = crate::github::parse_repository)]
    pub repo: Option<String>,
    /// The account id [default: the env file's `account`, else the credentials'].
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl IamArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = IamRequest {
            repository: self.repo.or_else(|| ctx.process.github.repository.clone()),
            account: self.account,
            artifact_bucket: self.artifact_bucket,
        };
        let report = crate::iam::run(&target, &req).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
