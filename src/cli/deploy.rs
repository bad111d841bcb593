//! `fangops deploy`: the stack, the companies and the alarms of one environment.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use fangops::config::EnvRef;
use fangops::deploy::DeployRequest;
use fangops::exit;

use super::common::{ArtifactArgs, CommentArgs};
use super::{Ctx, write_out};

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    /// Deploy a protected environment outside main in CI; name its stack to be sure.
    #[arg(long, value_name = "STACK")]
    pub allow_protected: Option<String>,
    /// Give up waiting for the stack after this many seconds (it goes on in AWS).
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    /// Do not sync the companies table after the stack.
    #[arg(long)]
    pub no_sync: bool,
    /// Let the sync delete more of the table than `sync.max_delete_percent` allows.
    #[arg(long, conflicts_with = "no_sync")]
    pub allow_mass_delete: bool,
    /// Deploy a protected environment with artifacts that no other environment
    /// deployed first (the report records it).
    #[arg(long)]
    pub allow_unpromoted: bool,
    /// Verify the deploy: a canary run through the pipeline, then the alarms (the
    /// default for a protected env, or as `verify.enabled` says).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not verify the deploy.
    #[arg(long, overrides_with = "verify")]
    pub no_verify: bool,
    /// Keep a deploy whose verification fails instead of rolling it back (to debug it).
    #[arg(long)]
    pub no_rollback: bool,
    /// Deploy pull request N's preview: the env file as a stack of its own beside the
    /// env's, verified, with the results of the companies the pull request adds or
    /// changes (`previews.max` at once; `teardown --preview N` removes it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=9_999_999), conflicts_with_all = ["allow_protected", "no_verify", "no_rollback", "allow_unpromoted", "no_sync"])]
    pub preview: Option<u64>,
    /// With --preview: the revision whose env file the companies are compared with
    /// [default: the pull request's base branch, in Actions].
    #[arg(long, value_name = "REF", requires = "preview")]
    pub base: Option<String>,
    /// Also write the deploy report (markdown) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub comment: CommentArgs,
}

impl DeployArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let delivery = self.comment.delivery(ctx)?;
        let req = DeployRequest {
            root: ctx.root.clone(),
            env: EnvRef::parse(&self.env),
            endpoint: ctx.endpoint()?,
            artifacts: self.artifacts.source(ctx),
            artifact_bucket: self.artifacts.artifact_bucket,
            allow_protected: self.allow_protected,
            ci: ctx.process.ci_context(),
            timeout: Duration::from_secs(self.timeout),
            sync: !self.no_sync,
            allow_mass_delete: self.allow_mass_delete,
            allow_unpromoted: self.allow_unpromoted,
            started_at: fangops::deploy::artifacts::now_rfc3339_millis(),
            verify: match (self.verify, self.no_verify) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            rollback: !self.no_rollback,
            verify_options: super::verify::verify_options(ctx)?,
            preview: None,
        };
        if let Some(pr) = self.preview {
            return preview(req, pr, self.base, self.report, delivery, ctx).await;
        }
        let report = fangops::release::deploy(&req, &ctx.ui).await?;
        write_out(self.report.as_deref(), &report.render_markdown())?;
        // The report first: a comment GitHub refuses must not hide what the deploy did.
        ctx.ui.report(&report, || report.render());
        if let Some(delivery) = delivery {
            let body = fangops::comment::deploy_comment(&report, delivery.target.sha.as_deref());
            fangops::comment::post(&delivery, &report.env, &body, &ctx.ui)
                .await
                .with_context(|| {
                    format!(
                        "the deploy of {} ended {:?}, but its report could not be posted",
                        report.stack, report.outcome
                    )
                })?;
        }
        Ok(if report.ok() {
            exit::SUCCESS
        } else {
            exit::FAILURE
        })
    }
}

/// `deploy --preview N`: the preview, its report, and its comment on pull request N.
async fn preview(
    mut req: DeployRequest,
    pr: u64,
    base: Option<String>,
    report_file: Option<PathBuf>,
    delivery: Option<fangops::comment::Delivery>,
    ctx: &Ctx,
) -> Result<u8> {
    let head = ctx.process.pull_request_head();
    req.preview = Some(fangops::preview::Target {
        pull_request: pr,
        head: head.clone(),
        companies: Vec::new(),
    });
    let preq = fangops::previews::PreviewRequest {
        deploy: req,
        base: base.or_else(|| ctx.process.base_revision()),
    };
    let report = fangops::previews::deploy(&preq, &ctx.ui).await?;
    let commit = head.or_else(|| preq.deploy.ci.sha.clone());
    let body = fangops::comment::preview_comment(&report, commit.as_deref(), ctx.process.now());
    write_out(report_file.as_deref(), &body)?;
    ctx.ui.report(&report, || report.render());
    if let Some(mut delivery) = delivery {
        delivery.target.pr.get_or_insert(pr);
        fangops::comment::post(&delivery, &report.env, &body, &ctx.ui)
            .await
            .with_context(|| {
                format!(
                    "the preview {} of pull request #{pr} was deployed, but its report could not be posted",
                    report.stack
                )
            })?;
    }
    Ok(if report.ok() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}
