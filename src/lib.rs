//! fangops: GitOps for the FANG sentiment pipeline on AWS.
//!
//! This crate is the clap-free core. The binary (`src/main.rs` and `src/cli/`) turns
//! arguments into the request types defined here and renders what comes back. One
//! module per concern, so the layout reads like the architecture:
//!
//! - [`config`]: environment files, parsed strictly into typed configuration
//! - [`companies`]: company names, their normalization and the list-as-a-set
//! - [`diagnostics`]: located problems (`file:line:col: message`)
//! - [`aws`]: SDK configuration, endpoints, credentials and the account guard
//! - [`resources`]: the names of an environment's resources, derived from its stack
//! - [`deploy`] (template, parameters, artifacts, CloudFormation), [`plan`],
//!   [`teardown`]: the stacks; [`sync`]: the companies table equals the file;
//!   [`drift`]: how far the live environment is from the repository; [`alarms`]:
//!   CloudWatch alarms and dashboard
//! - [`build`]: the Lambda zips; [`run`]: a pipeline run, by the local runner or in
//!   AWS; [`results`]: tables, JSON and the HTML page
//! - [`validate`], [`doctor`]: the commands of the same name
//! - [`output`]: human, JSON and CI output, logging and progress

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
pub mod edit;
pub mod exit;
pub mod github;
pub mod history;
pub mod iam;
pub mod markdown;
pub mod output;
pub mod pages;
pub mod plan;
pub mod preview;
pub mod previews;
pub mod release;
#[cfg(test)]
mod replay;
pub mod resources;
pub mod results;
pub mod retry;
pub mod rollback;
pub mod run;
pub mod stacks;
pub mod sync;
pub mod target;
pub mod teardown;
pub mod trend;
pub mod validate;
pub mod verdict;
pub mod verify;
