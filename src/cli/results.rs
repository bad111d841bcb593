//! `fangops results`: a run's results as a table, JSON, or an HTML page.

use std::path::PathBuf;

use anyhow::{Context, Result};
use fangops::config::EnvRef;
use fangops::exit;
use fangops::results::{Format, ResultsRequest};

use super::Ctx;

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
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let format = match (ctx.ui.json, self.format) {
            (true, _) | (_, FormatArg::Json) => Format::Json,
            (_, FormatArg::Html) => Format::Html,
            (_, FormatArg::Table) => Format::Table,
        };
        let req = ResultsRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            run: self.run,
            format,
        };
        let results = fangops::results::fetch(&req).await?;
        let text = match req.format {
            Format::Json => serde_json::to_string_pretty(&results)? + "\n",
            Format::Html => results.render_html(),
            Format::Table => results.render_table(),
        };
        match self.out {
            Some(path) => {
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!("wrote {}", path.display());
            }
            None => print!("{text}"),
        }
        Ok(exit::SUCCESS)
    }
}
