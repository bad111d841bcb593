//! `fangops comment`: any rendered report as an environment's pull-request comment.

use std::path::{Path, PathBuf};

use crate::comment::{CommentRequest, Source};
use crate::config::EnvRef;
use crate::exit;
use anyhow::Result;

use super::Ctx;
use super::common::CommentTo;

#[derive(Debug, clap::Args)]
pub struct CommentCmdArgs {
    /// The environment whose comment to create or edit: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The markdown to post (a `plan --out` or `deploy --report` file); `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub to: CommentTo,
}

impl CommentCmdArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let req = CommentRequest {
            env: EnvRef::parse(&self.env),
            source: if self.file == Path::new("-") {
                Source::Stdin
            } else {
                Source::File(ctx.path(&self.file))
            },
            delivery: self.to.delivery(ctx)?,
        };
        crate::comment::run(&req, &ctx.ui).await?;
        Ok(exit::SUCCESS)
    }
}
