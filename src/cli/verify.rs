//! `fangops verify`: a canary run through the deployed pipeline, then its alarms.

use crate::exit;
use crate::release::verify::{VerifyOptions, VerifyRequest};
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The artifact bucket holding the deploy records (default:
    /// fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl VerifyArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = VerifyRequest {
            artifact_bucket: self.artifact_bucket,
            options: verify_options(ctx)?,
        };
        let report = crate::release::verify::run(&target, &req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.passed {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}

/// Where the local runner reaches Wikipedia and Comprehend, as `run` reads them.
pub fn verify_options(ctx: &Ctx) -> Result<VerifyOptions> {
    Ok(VerifyOptions {
        wikipedia_base: ctx.process.wikipedia_base.clone(),
        comprehend_endpoint: ctx.process.comprehend_endpoint()?,
    })
}
