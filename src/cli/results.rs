//! `fangops results`: a run's results as a table, JSON, or an HTML page.

use std::path::PathBuf;

use crate::exit;
use crate::results::Format;
use anyhow::{Context, Result};

use super::Ctx;
use super::common::{EnvArg, PreviewArg};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// A run id; default: the latest run.
    #[arg(long, value_name = "ID", conflicts_with = "since")]
    pub run: Option<String>,
    /// Every finished run of the last N days (`30d`, `2w`): each company's sentiment
    /// as a trend.
    #[arg(long, value_name = "DAYS", value_parser = parse_days)]
    pub since: Option<u32>,
    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub preview: PreviewArg,
}

/// `30d`, `2w` or a bare number of days.
fn parse_days(s: &str) -> Result<u32, String> {
    let (number, unit) = match s.strip_suffix('d') {
        Some(n) => (n, 1),
        None => match s.strip_suffix('w') {
            Some(n) => (n, 7),
            None => (s, 1),
        },
    };
    match number.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n * unit),
        _ => Err(format!("{s:?} is not a number of days: use e.g. 30d or 2w")),
    }
}

impl ResultsArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let format = match (ctx.ui.json, self.format) {
            (true, _) | (_, FormatArg::Json) => Format::Json,
            (_, FormatArg::Html) => Format::Html,
            (_, FormatArg::Table) => Format::Table,
        };
        let target = self.env.target(ctx, self.preview.existing())?;
        let text = match self.since {
            Some(days) => {
                let trend = crate::results::trend::fetch(&target, days).await?;
                match format {
                    Format::Json => serde_json::to_string_pretty(&trend)? + "\n",
                    Format::Html => trend.render_html(),
                    Format::Table => trend.render_table(),
                }
            }
            None => {
                let results = crate::results::fetch(&target, self.run.as_deref()).await?;
                match format {
                    Format::Json => serde_json::to_string_pretty(&results)? + "\n",
                    Format::Html => results.render_html(),
                    Format::Table => results.render_table(),
                }
            }
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
