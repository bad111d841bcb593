//! Arguments of the commands that act on the companies: sync, drift, companies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fangops::companies::edit::{self, Edit, EditRequest};
use fangops::config::EnvRef;
use fangops::drift::DriftRequest;
use fangops::sync::{SyncOptions, SyncRequest};

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete even when that is more of the table than `sync.max_delete_percent`.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// BatchWriteItem calls in flight at once.
    #[arg(long, default_value_t = fangops::sync::DEFAULT_CONCURRENCY as u16, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Give up after this many seconds (a sync run again resumes).
    #[arg(long, default_value_t = 600, value_name = "S")]
    pub timeout: u64,
}

impl SyncArgs {
    pub fn into_request(self, root: &Path) -> SyncRequest {
        SyncRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            options: SyncOptions {
                dry_run: self.dry_run,
                allow_mass_delete: self.allow_mass_delete,
                concurrency: self.concurrency.into(),
                timeout: Duration::from_secs(self.timeout),
            },
        }
    }
}

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

#[derive(Debug, clap::Subcommand)]
pub enum CompaniesAction {
    /// Add companies to the env file's list (at their sorted place if it is sorted).
    Add(NamesArgs),
    /// Remove companies from the env file's list.
    Remove(NamesArgs),
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
    pub fn into_request(self, root: &Path) -> anyhow::Result<EditRequest> {
        let names = |args: NamesArgs| -> anyhow::Result<(EditTarget, Vec<String>)> {
            let mut names = args.names;
            if let Some(file) = &args.file {
                let file = if file.is_absolute() || file == Path::new("-") {
                    file.clone()
                } else {
                    root.join(file)
                };
                names.extend(edit::read_names(&file)?);
            }
            Ok((args.target, names))
        };
        let (target, edit) = match self.action {
            CompaniesAction::Add(args) => {
                let (t, n) = names(args)?;
                (t, Edit::Add(n))
            }
            CompaniesAction::Remove(args) => {
                let (t, n) = names(args)?;
                (t, Edit::Remove(n))
            }
            CompaniesAction::Rename { target, from, to } => (target, Edit::Rename { from, to }),
        };
        Ok(EditRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&target.env),
            edit,
            dry_run: target.dry_run,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Give up waiting for CloudFormation's drift detection after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
}

impl DriftArgs {
    pub fn into_request(self, root: &Path) -> DriftRequest {
        DriftRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            timeout: Duration::from_secs(self.timeout),
        }
    }
}
