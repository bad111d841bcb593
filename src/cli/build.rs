use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use fangops::build::{BuildRequest, host_arch};
use fangops::config::Arch;

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
    pub fn into_request(self, root: &Path) -> Result<BuildRequest> {
        let arch = match self.arch {
            Some(ArchArg::Arm64) => Arch::Arm64,
            Some(ArchArg::X86_64) => Arch::X86_64,
            None => match host_arch() {
                Some(a) => a,
                None => bail!("this machine is neither x86_64 nor arm64; pass --arch"),
            },
        };
        let out = if self.out.is_absolute() {
            self.out
        } else {
            root.join(self.out)
        };
        Ok(BuildRequest {
            root: root.to_path_buf(),
            arch,
            out,
            profile: self.profile,
        })
    }
}
