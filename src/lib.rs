//! fangops: GitOps for the FANG sentiment pipeline on AWS.
//!
//! This crate is the clap-free core and its edge. The edge (`src/cli/`) parses the
//! arguments, reads the process environment, resolves the environment a command names
//! into a `target::Target`, turns the rest of its arguments into the core's request
//! types, and renders what comes back; `src/main.rs` only calls [`main`]. The
//! folders name the workflows (`config`, `companies`, `deploy`, `release`, `results`,
//! ...); the files at the root are commands of one file and the adapters every workflow
//! uses. `docs/architecture.md` is the map, module by module (a test checks that it
//! names every one).

mod alarms;
mod aws;
mod build;
mod cli;
mod comment;
mod companies;
mod config;
mod cost;
mod deploy;
mod diagnostics;
mod doctor;
mod drift;
mod exit;
mod github;
mod iam;
mod markdown;
mod output;
mod plan;
mod previews;
mod release;
mod report;
mod resources;
mod results;
mod retry;
mod run;
mod stacks;
mod target;
mod teardown;
#[cfg(test)]
mod testing;
mod validate;

pub use cli::main;

/// What the integration tests and the benchmark use without going through the binary
/// (fake Lambda zips, the IAM action an AWS call needs, the env-file parser): not an
/// API.
#[doc(hidden)]
pub mod support {
    pub use crate::build::{elf::sample as sample_elf, package_bootstrap, sha256_hex};
    pub use crate::config::names::CompanyList;
    pub use crate::config::{Arch, parse as parse_env, raw::from_str as parse_raw_env};
    pub use crate::iam::iam_action;
}
