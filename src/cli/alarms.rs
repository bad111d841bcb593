//! Arguments of `fangops alarms`.

use std::path::Path;

use fangops::alarms::AlarmsRequest;
use fangops::config::EnvRef;

#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Show the alarm changes (add / change / remove); write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl AlarmsArgs {
    pub fn into_request(self, root: &Path) -> AlarmsRequest {
        AlarmsRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            dry_run: self.dry_run,
        }
    }
}
