//! `fangops doctor`: can fangops act on this environment?

use anyhow::Result;
use fangops::config::EnvRef;
use fangops::doctor::DoctorRequest;
use fangops::exit;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The environment: a name (`local` for environments/local.yaml) or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

impl DoctorArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = DoctorRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
        };
        let report = fangops::doctor::run(&req, &ctx.ui).await?;
        ctx.ui.report(&report, || report.render());
        Ok(if report.ok {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}
