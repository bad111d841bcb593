//! `fangops run`: the pipeline once, waited for.

use std::time::Duration;

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::exit;
use fangops::run::RunRequest;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Give up waiting for results after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
    /// Run pull request N's preview (`deploy --preview N`), which has no schedule.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=9_999_999))]
    pub preview: Option<u64>,
}

impl RunArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = RunRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            timeout: Duration::from_secs(self.timeout),
            wikipedia_base: ctx.process.wikipedia_base.clone(),
            comprehend_endpoint: ctx.process.comprehend_endpoint()?,
            canary: None,
            preview: self.preview,
        };
        let report = fangops::run::run(&req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.ok() {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}
