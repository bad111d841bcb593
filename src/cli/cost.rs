//! Arguments of `fangops cost`.

use std::path::Path;

use fangops::config::EnvRef;
use fangops::cost::CostRequest;

#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Also estimate the env file at this git revision and show the delta; `file:PATH`
    /// compares with another env file [default in Actions: origin/$GITHUB_BASE_REF].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Subtract the AWS free tier (per account, shared; some allowances expire).
    #[arg(long)]
    pub free_tier: bool,
    /// Do not ask Cost Explorer for the actual spend (it costs $0.01 a request).
    #[arg(long)]
    pub no_actual: bool,
    /// Print the markdown section a pull request gets instead of text.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    #[arg(from_global)]
    pub json: bool,
}

impl CostArgs {
    pub fn into_request(self, root: &Path) -> (CostRequest, bool) {
        let req = CostRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            base: self.base.or_else(super::deploy::github_base),
            free_tier: self.free_tier,
            actual: !self.no_actual,
        };
        (req, self.markdown)
    }
}
