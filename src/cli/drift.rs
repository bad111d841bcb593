//! `fangops drift`: the live environment against the repository.

use std::time::Duration;

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::drift::DriftRequest;
use fangops::exit;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Give up waiting for CloudFormation's drift detection after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
}

impl DriftArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = DriftRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            timeout: Duration::from_secs(self.timeout),
        };
        let report = fangops::drift::drift(&req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.drifted {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    }
}
