use std::path::Path;

use fangops::config::EnvRef;
use fangops::doctor::DoctorRequest;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The environment: a name (`local` for environments/local.yaml) or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

impl DoctorArgs {
    pub fn into_request(self, root: &Path) -> DoctorRequest {
        DoctorRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
        }
    }
}
