//! Arguments of the commands that run the pipeline and read its results.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fangops::config::EnvRef;
use fangops::results::{Format, ResultsRequest};
use fangops::run::RunRequest;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Give up waiting for results after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "S")]
    pub timeout: u64,
}

impl RunArgs {
    pub fn into_request(self, root: &Path) -> RunRequest {
        RunRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// A run id; default: the latest run.
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl ResultsArgs {
    pub fn into_request(self, root: &Path, json: bool) -> (ResultsRequest, Option<PathBuf>) {
        let format = match (json, self.format) {
            (true, _) | (_, FormatArg::Json) => Format::Json,
            (_, FormatArg::Html) => Format::Html,
            (_, FormatArg::Table) => Format::Table,
        };
        (
            ResultsRequest {
                root: root.to_path_buf(),
                env: EnvRef::parse(&self.env),
                run: self.run,
                format,
            },
            self.out,
        )
    }
}
