//! Arguments of the commands that act on the companies: sync, drift, companies.

use std::path::Path;
use std::time::Duration;

use fangops::config::EnvRef;
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
