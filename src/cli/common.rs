//! Flags that several subcommands share: where the Lambda zips come from, and where a
//! report is posted as a pull-request comment.

use std::path::PathBuf;

use crate::comment::Delivery;
use crate::config::EnvRef;
use crate::deploy::ArtifactSource;
use crate::diagnostics::UsageError;
use crate::target::{Preview, Target};

use super::Ctx;

/// Where the Lambda zips come from, shared by deploy and plan.
#[derive(Debug, clap::Args)]
pub struct ArtifactArgs {
    /// Take the zips from DIR (`fangops build --out DIR`). Without it, each function's
    /// zip comes from the artifact bucket's index when its sources were built before,
    /// and is built (cargo) only otherwise.
    #[arg(long, value_name = "DIR", conflicts_with = "profile")]
    pub artifacts: Option<PathBuf>,
    /// Cargo profile for building the zips when --artifacts is not given.
    #[arg(long, default_value = "lambda", value_name = "PROFILE")]
    pub profile: String,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl ArtifactArgs {
    pub fn source(&self, ctx: &Ctx) -> ArtifactSource {
        match &self.artifacts {
            Some(dir) => ArtifactSource::Dir(ctx.path(dir)),
            None => ArtifactSource::Build {
                profile: self.profile.clone(),
                tools: ctx.process.build_tools(&ctx.root),
            },
        }
    }
}

/// Posting a report as the environment's pull-request comment.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentArgs {
    /// Post the report as this environment's pull-request comment (edited in place on
    /// every run). Without GITHUB_TOKEN it is printed instead (or written, --comment-out).
    #[arg(long)]
    pub comment: bool,
    #[command(flatten)]
    pub to: CommentTo,
}

/// Which pull request, and the fallback without a token.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentTo {
    /// The repository, owner/name [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", value_parser = crate::github::parse_repository)]
    pub repo: Option<String>,
    /// The pull request [default: from $GITHUB_EVENT_PATH, or the PR of $GITHUB_SHA].
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Without a token, write the comment to FILE instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub comment_out: Option<PathBuf>,
}

impl CommentTo {
    /// The delivery, checked before any work: a target that could post but names no
    /// valid repository or pull request is a usage error.
    pub fn delivery(&self, ctx: &Ctx) -> Result<Delivery, UsageError> {
        let target = ctx.process.github_target(self.repo.clone(), self.pr);
        target.check()?;
        Ok(Delivery {
            target,
            out: self.comment_out.clone(),
        })
    }
}

impl CommentArgs {
    pub fn delivery(&self, ctx: &Ctx) -> Result<Option<Delivery>, UsageError> {
        if !self.comment {
            if self.to.repo.is_some() || self.to.pr.is_some() || self.to.comment_out.is_some() {
                return Err(UsageError(
                    "--repo, --pr and --comment-out go with --comment".to_owned(),
                ));
            }
            return Ok(None);
        }
        self.to.delivery(ctx).map(Some)
    }
}

/// `--env`: the environment a command acts on.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvArg {
    /// The environment: a name under `environments/`, or a path to an env file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

/// `--preview N`: a pull request's preview of the environment.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PreviewArg {
    /// Pull request N's preview of the environment: a stack of its own beside the
    /// environment's (`deploy --preview N` makes it, `teardown --preview N` removes it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=crate::config::preview::MAX_PULL_REQUEST))]
    pub preview: Option<u64>,
}

impl PreviewArg {
    /// A preview that may exist: to run, read or tear down.
    pub fn existing(self) -> Preview {
        self.preview.map_or(Preview::None, Preview::Existing)
    }
}

impl EnvArg {
    /// The environment, resolved: its file read and checked, as `preview` asks.
    pub fn target(&self, ctx: &Ctx, preview: Preview) -> anyhow::Result<Target> {
        Ok(Target::load(
            &ctx.root,
            &EnvRef::parse(&self.env),
            preview,
            ctx.endpoint()?,
        )?)
    }
}
