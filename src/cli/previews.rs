//! `fangops previews`: an environment's pull-request previews, and `prune`.

use std::time::Duration;

use crate::exit;
use crate::previews::{ListRequest, PruneRequest};
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct PreviewsArgs {
    /// The environment whose previews these are: a name or a path.
    #[arg(long, value_name = "ENV", global = true)]
    pub env: Option<String>,
    #[command(subcommand)]
    pub command: Option<PreviewsCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum PreviewsCommand {
    /// Tear down the previews whose pull request is closed, gone, or quiet too long.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// A preview whose pull request has been quiet this long goes too (7d, 36h, 90m);
    /// without GITHUB_TOKEN, one whose stack has not changed for this long.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = crate::previews::parse_age)]
    pub older_than: Duration,
    /// Say what would be torn down; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The repository whose pull requests these are [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", value_parser = crate::github::parse_repository)]
    pub repo: Option<String>,
    /// Give up waiting for a stack's deletion after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
}

impl PreviewsArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let Some(env) = self.env else {
            return Err(crate::diagnostics::UsageError(
                "name the environment whose previews these are: --env ENV".to_owned(),
            )
            .into());
        };
        let env = EnvArg { env };
        let list = ListRequest {
            now: ctx.process.now(),
        };
        match self.command {
            None => {
                let target = env.target(ctx, Preview::None)?;
                let report = crate::previews::list(&target, &list).await?;
                ctx.ui.report(&report, || report.render());
            }
            Some(PreviewsCommand::Prune(p)) => {
                let mut github = ctx.process.github_target(p.repo, None);
                github.pr = None;
                // With a token, every preview's pull request is asked about: a missing or
                // malformed repository is a usage error now, not a failure per preview.
                if github.token.is_some() {
                    let repo = github.repository.as_deref().ok_or_else(|| {
                        crate::diagnostics::UsageError(
                            "prune reads each pull request's state: set GITHUB_REPOSITORY or pass --repo OWNER/NAME (without GITHUB_TOKEN it goes by the stacks' age)".to_owned(),
                        )
                    })?;
                    crate::github::check_repository(repo)?;
                }
                let target = env.target(ctx, Preview::None)?;
                let req = PruneRequest {
                    list,
                    older_than: p.older_than,
                    github,
                    dry_run: p.dry_run,
                    timeout: Duration::from_secs(p.timeout),
                };
                let report = crate::previews::prune(&target, &req, &ctx.ui).await?;
                ctx.ui.report(&report, || report.render());
                if !report.ok() {
                    return Ok(exit::FAILURE);
                }
            }
        }
        Ok(exit::SUCCESS)
    }
}
