//! `fangops companies add|remove|rename`: the env file's list edited in place.

use std::path::{Path, PathBuf};

use crate::config::EnvRef;
use crate::config::edit::{Edit, EditRequest};
use crate::diagnostics::UsageError;
use crate::exit;
use anyhow::Result;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct CompaniesArgs {
    #[command(subcommand)]
    pub action: CompaniesAction,
}

/// Options every list edit takes.
#[derive(Debug, clap::Args)]
pub struct EditTarget {
    /// The environment whose file to edit: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Show the change; leave the file alone.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    #[command(flatten)]
    pub target: EditTarget,
    /// Company names.
    #[arg(value_name = "NAME", required_unless_present = "file")]
    pub names: Vec<String>,
    /// Also take names from FILE, one per line (`#` comments; `-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub names: NamesArgs,
    /// The Wikipedia page to read for the company (one NAME), when its name's page is
    /// another: `--wikipedia "Apple Inc."`. For a listed company, sets its page.
    #[arg(long, value_name = "TITLE", conflicts_with = "file")]
    pub wikipedia: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum CompaniesAction {
    /// Add companies to the env file's list (at their sorted place if it is sorted).
    Add(AddArgs),
    /// Remove companies from the env file's list.
    Remove(NamesArgs),
    /// Check every company's Wikipedia page as the pipeline will read it: ok,
    /// redirected, disambiguation or missing, with the fix to write (exit 3 when any
    /// needs one).
    Check {
        /// The environment: a name or a path.
        #[arg(long, value_name = "ENV")]
        env: String,
    },
    /// Rename a company in the env file's list, in place.
    Rename {
        #[command(flatten)]
        target: EditTarget,
        /// The name as listed (case and spacing do not matter).
        from: String,
        /// The new name.
        to: String,
    },
}

impl CompaniesArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let (target, edit, file) = match self.action {
            CompaniesAction::Check { env } => {
                // No AWS here: the file alone, read as every command reads it.
                let env = crate::target::read(&ctx.root, &EnvRef::parse(&env))?;
                let req = crate::companies::check::CheckRequest {
                    wikipedia_base: ctx.process.wikipedia_base.clone(),
                };
                let report = crate::companies::check::run(&env, &req).await?;
                ctx.ui.report(&report, || report.render());
                return Ok(if report.ok() {
                    exit::SUCCESS
                } else {
                    exit::CHANGES
                });
            }
            CompaniesAction::Add(AddArgs {
                names,
                wikipedia: Some(title),
            }) => {
                let [name] = <[String; 1]>::try_from(names.names).map_err(|_| {
                    UsageError("--wikipedia goes with exactly one company name".to_owned())
                })?;
                (
                    names.target,
                    Edit::AddPage {
                        name,
                        wikipedia: title,
                    },
                    None,
                )
            }
            CompaniesAction::Add(AddArgs { names: a, .. }) => {
                (a.target, Edit::Add(a.names), a.file)
            }
            CompaniesAction::Remove(a) => (a.target, Edit::Remove(a.names), a.file),
            CompaniesAction::Rename { target, from, to } => {
                (target, Edit::Rename { from, to }, None)
            }
        };
        let req = EditRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&target.env),
            edit,
            names_file: file.map(|f| if f == Path::new("-") { f } else { ctx.path(&f) }),
            dry_run: target.dry_run,
        };
        let report = crate::config::edit::run(&req)?;
        ctx.ui.report(&report, || report.render());
        Ok(exit::SUCCESS)
    }
}
