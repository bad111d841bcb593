//! `fangops build`: the Lambda zips.

use std::path::PathBuf;

use crate::build::{BuildRequest, host_arch};
use crate::config::Arch;
use crate::diagnostics::UsageError;
use crate::exit;
use anyhow::Result;

use super::Ctx;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArchArg {
    #[value(name = "arm64")]
    Arm64,
    #[value(name = "x86_64")]
    X86_64,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// CPU architecture of the functions. Default: this machine's.
    #[arg(long, value_enum)]
    pub arch: Option<ArchArg>,
    /// Where the zips go.
    #[arg(long, default_value = "dist", value_name = "DIR")]
    pub out: PathBuf,
    /// Cargo profile: `lambda` (release, optimized for size) for real artifacts, `dev`
    /// for a fast local check.
    #[arg(long, default_value = "lambda", value_name = "PROFILE")]
    pub profile: String,
}

impl BuildArgs {
    pub fn run(self, ctx: &Ctx) -> Result<u8> {
        let arch = match self.arch {
            Some(ArchArg::Arm64) => Arch::Arm64,
            Some(ArchArg::X86_64) => Arch::X86_64,
            None => host_arch().ok_or_else(|| {
                UsageError("this machine is neither x86_64 nor arm64; pass --arch".to_owned())
            })?,
        };
        let req = BuildRequest {
            root: ctx.root.clone(),
            arch,
            out: ctx.path(&self.out),
            profile: self.profile,
            tools: ctx.process.build_tools(&ctx.root),
            only: None,
        };
        let report = crate::build::build(&req)?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
