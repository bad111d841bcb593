use std::path::Path;

use fangops::config::EnvRef;
use fangops::validate::ValidateRequest;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// One environment: a name (`dev` for environments/dev.yaml) or a path. Default: all.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

impl ValidateArgs {
    pub fn into_request(self, root: &Path) -> ValidateRequest {
        ValidateRequest {
            root: root.to_path_buf(),
            env: self.env.as_deref().map(EnvRef::parse),
        }
    }
}
