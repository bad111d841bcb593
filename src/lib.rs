//! fangops: GitOps for the FANG sentiment pipeline on AWS.
//!
//! This crate is the clap-free core. The binary (`src/main.rs` and `src/cli/`) resolves
//! the environment a command names into a [`target::Target`], turns the rest of its
//! arguments into the request types defined here, and renders what comes back. The
//! folders name the workflows (`config`, `companies`, `deploy`, `release`, `results`,
//! ...); the files at the root are commands of one file and the adapters every workflow
//! uses. `docs/architecture.md` is the map, module by module (a test checks that it
//! names every one).

pub mod alarms;
pub mod aws;
pub mod build;
pub mod comment;
pub mod companies;
pub mod config;
pub mod cost;
pub mod deploy;
pub mod diagnostics;
pub mod doctor;
pub mod drift;
pub mod exit;
pub mod github;
pub mod iam;
pub mod markdown;
pub mod output;
pub mod plan;
pub mod previews;
pub mod release;
#[cfg(test)]
mod replay;
pub mod resources;
pub mod results;
pub mod retry;
pub mod run;
pub mod stacks;
pub mod target;
pub mod teardown;
pub mod validate;
