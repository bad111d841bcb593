//! `fangops validate`: every env file (or one) and the template.

use crate::config::EnvRef;
use crate::exit;
use crate::validate::ValidateRequest;
use anyhow::Result;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// One environment (a name or a path) instead of every file in environments/.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

impl ValidateArgs {
    pub fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = ValidateRequest {
            root: ctx.root.clone(),
            env: self.env.as_deref().map(EnvRef::parse),
        };
        let report = crate::validate::run(&req);
        ctx.ui.report(&report, || report.render());
        Ok(if report.ok {
            exit::SUCCESS
        } else {
            exit::INVALID
        })
    }
}
