//! The command line: clap types only. Each subcommand's arguments become a core
//! request in its own file; nothing below `src/cli` is visible to the core.

mod alarms;
mod build;
mod cost;
mod deploy;
mod doctor;
mod pipeline;
mod schema;
mod sync;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use alarms::AlarmsArgs;
pub use build::BuildArgs;
pub use cost::CostArgs;
pub use deploy::{CommentCmdArgs, DeployArgs, PlanArgs, TeardownArgs};
pub use doctor::DoctorArgs;
pub use pipeline::{ResultsArgs, RunArgs};
pub use schema::SchemaArgs;
pub use sync::{CompaniesArgs, DriftArgs, SyncArgs};
pub use validate::ValidateArgs;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (an AWS error, a failed check)
  2  usage or validation error: bad flags or bad input files; nothing was changed
  3  `plan --detailed-exitcode`: the plan has changes; `drift`: drift found

Environment:
  CI=true            one plain log line per event, no progress display
  NO_COLOR           no colour
  FANGOPS_LOG        log filter, e.g. `fangops=debug` (overrides -v)
  AWS_ENDPOINT_URL   overrides an env file's endpoint_url";

/// GitOps for the FANG sentiment pipeline: validate, build, plan, deploy and run it
/// from environment files in Git.
#[derive(Debug, Parser)]
#[command(name = "fangops", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The project root, holding `environments/`.
    #[arg(
        short = 'C',
        long,
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    pub project_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check env files; report every problem as file:line:col.
    Validate(ValidateArgs),
    /// Check that fangops can act on an environment: endpoint, credentials, account.
    Doctor(DoctorArgs),
    /// Build the Lambda functions into deterministic `bootstrap` zips.
    Build(BuildArgs),
    /// Show what a deploy would change (a change set, created and deleted, never run).
    Plan(PlanArgs),
    /// Post a rendered report as an environment's pull-request comment (edited in place).
    Comment(CommentCmdArgs),
    /// Deploy an environment's stack, then sync its companies.
    Deploy(DeployArgs),
    /// Make the companies table equal the env file's list (writes and deletes).
    Sync(SyncArgs),
    /// Install the env file's CloudWatch alarms and dashboard (deploy does it too).
    Alarms(AlarmsArgs),
    /// Estimate an environment's monthly cost and TCO; actual spend from Cost Explorer.
    Cost(CostArgs),
    /// Compare the live environment with the repository: companies and stack drift.
    Drift(DriftArgs),
    /// Edit an env file's company list in place: add, remove, rename.
    Companies(CompaniesArgs),
    /// Delete an environment: its stack, its buckets' contents, its log groups, its alarms.
    Teardown(TeardownArgs),
    /// Run the pipeline once and wait for its results.
    Run(RunArgs),
    /// Show a run's results as a table, JSON, or a self-contained HTML page.
    Results(ResultsArgs),
    /// Print the JSON Schema of env files.
    Schema(SchemaArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
