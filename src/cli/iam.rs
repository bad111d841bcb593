//! `fangops iam`: the IAM roles fangops runs under, filled in for one environment.

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::exit;
use fangops::iam::IamRequest;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct IamArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The repository whose workflows assume the roles [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", value_parser = fangops::github::parse_repository)]
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
        let req = IamRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            repository: self.repo.or_else(|| ctx.process.github.repository.clone()),
            account: self.account,
            artifact_bucket: self.artifact_bucket,
        };
        let report = fangops::iam::run(&req).await?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
