//! `fangops schema`: the JSON Schema of env files.

use std::path::PathBuf;

use crate::exit;
use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl SchemaArgs {
    pub fn run(self) -> Result<u8> {
        let schema = crate::config::schema::render();
        match self.out {
            Some(path) => std::fs::write(&path, schema)
                .with_context(|| format!("writing the schema to {}", path.display()))?,
            None => print!("{schema}"),
        }
        Ok(exit::SUCCESS)
    }
}
