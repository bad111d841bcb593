//! The command line: clap types, one file per subcommand, and the process environment
//! (`process.rs`), read only here. Each subcommand turns its arguments into a core
//! request, runs it, renders the report and picks the exit code; nothing below
//! `src/cli` is visible to the core.

mod alarms;
mod build;
mod comment;
mod common;
mod companies;
mod cost;
mod deploy;
mod docs;
mod doctor;
mod drift;
mod history;
mod iam;
mod main;
mod plan;
mod previews;
mod process;
mod results;
mod rollback;
mod run;
mod schema;
mod sync;
mod teardown;
mod validate;
mod verify;

use std::path::{Path, PathBuf};

use crate::output::Ui;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

pub use main::main;
use process::ProcessEnv;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (an AWS error, a failed check)
  2  usage or validation error: bad flags or bad input files; nothing was changed
  3  `plan --detailed-exitcode`: the plan has changes; `drift`: drift found;
     `companies check`: a company's Wikipedia page needs a fix

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
    Validate(validate::ValidateArgs),
    /// Check that fangops can act on an environment: endpoint, credentials, account.
    Doctor(doctor::DoctorArgs),
    /// Build the Lambda functions into deterministic `bootstrap` zips.
    Build(build::BuildArgs),
    /// Show what a deploy would change (a change set, created and deleted, never run).
    Plan(plan::PlanArgs),
    /// Post a rendered report as an environment's pull-request comment (edited in place).
    Comment(comment::CommentCmdArgs),
    /// Deploy an environment's stack, then sync its companies.
    ///
    /// With --preview N, pull request N's preview instead: the env file as a stack of its
    /// own beside the environment's, always verified and never rolled back, its report
    /// carrying the results of the companies the pull request adds or changes
    /// (`previews.max` of them at once).
    Deploy(deploy::DeployArgs),
    /// Make the companies table equal the env file's list (writes and deletes).
    Sync(sync::SyncArgs),
    /// Install the env file's CloudWatch alarms and dashboard (deploy does it too).
    Alarms(alarms::AlarmsArgs),
    /// Estimate an environment's monthly cost and TCO; actual spend from Cost Explorer.
    Cost(cost::CostArgs),
    /// Compare the live environment with the repository: companies and stack drift.
    Drift(drift::DriftArgs),
    /// Edit an env file's company list in place: add, remove, rename.
    Companies(companies::CompaniesArgs),
    /// Delete an environment: its stack, its buckets' contents, its log groups, its alarms.
    Teardown(teardown::TeardownArgs),
    /// Run the pipeline once and wait for its results.
    Run(run::RunArgs),
    /// Show a run's results as a table, JSON, or a self-contained HTML page.
    Results(results::ResultsArgs),
    /// Print the JSON Schema of env files.
    Schema(schema::SchemaArgs),
    /// Print the IAM roles fangops runs under (deploy, plan, CloudFormation), filled in.
    Iam(iam::IamArgs),
    /// List an environment's deploys, newest first, from their records.
    History(history::HistoryArgs),
    /// Prove the deployed pipeline works: a canary run, its results, the stack's alarms.
    Verify(verify::VerifyArgs),
    /// Deploy the stack again as an earlier, verified deploy left it, then verify it.
    Rollback(rollback::RollbackArgs),
    /// List an environment's pull-request previews (`deploy --preview N`); `prune`
    /// tears down those whose pull request is closed or quiet.
    Previews(previews::PreviewsArgs),
    /// Write the references in docs/reference (the CLI, the env-file keys, the exit
    /// codes), generated from the code: `make docs`.
    #[command(hide = true)]
    Docs(docs::DocsArgs),
}

/// What every subcommand gets besides its own arguments.
#[derive(Debug)]
pub struct Ctx {
    /// The project root (`-C`).
    pub root: PathBuf,
    pub ui: Ui,
    pub process: ProcessEnv,
}

impl Ctx {
    /// A path from the command line, under the project root unless absolute.
    pub fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    /// The endpoint override for requests that reach AWS.
    pub fn endpoint(&self) -> Result<Option<url::Url>> {
        Ok(self.process.endpoint()?)
    }
}

impl Command {
    /// Runs the subcommand; the exit code on success, the error otherwise.
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        match self {
            Self::Validate(a) => a.run(ctx),
            Self::Doctor(a) => a.run(ctx).await,
            Self::Build(a) => a.run(ctx),
            Self::Plan(a) => a.run(ctx).await,
            Self::Comment(a) => a.run(ctx).await,
            Self::Deploy(a) => a.run(ctx).await,
            Self::Sync(a) => a.run(ctx).await,
            Self::Alarms(a) => a.run(ctx).await,
            Self::Cost(a) => a.run(ctx).await,
            Self::Drift(a) => a.run(ctx).await,
            Self::Companies(a) => a.run(ctx).await,
            Self::Teardown(a) => a.run(ctx).await,
            Self::Run(a) => a.run(ctx).await,
            Self::Results(a) => a.run(ctx).await,
            Self::Schema(a) => a.run(),
            Self::Iam(a) => a.run(ctx).await,
            Self::History(a) => a.run(ctx).await,
            Self::Verify(a) => a.run(ctx).await,
            Self::Rollback(a) => a.run(ctx).await,
            Self::Previews(a) => a.run(ctx).await,
            Self::Docs(a) => a.run(&ctx.root),
        }
    }
}

/// Writes a rendered report to a file when asked to.
pub fn write_out(path: Option<&Path>, text: &str) -> Result<()> {
    if let Some(path) = path {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
