//! `fangops deploy`: the stack, the companies and the alarms of one environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::deploy::DeployRequest;
use crate::exit;
use crate::target::{Preview, Target};
use anyhow::{Context, Result};

use super::common::{ArtifactArgs, CommentArgs, EnvArg, PreviewArg};
use super::{Ctx, write_out};

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    /// Deploy a protected environment outside main in CI; name its stack to be sure.
    #[arg(long, value_name = "STACK", conflicts_with = "preview")]
    pub allow_protected: Option<String>,
    /// Give up waiting for the stack after this many seconds (it goes on in AWS).
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    /// Do not sync the companies table after the stack.
    #[arg(long, conflicts_with = "preview")]
    pub no_sync: bool,
    /// Let the sync delete more of the table than `sync.max_delete_percent` allows.
    #[arg(long, conflicts_with = "no_sync")]
    pub allow_mass_delete: bool,
    /// Deploy a protected environment with artifacts that no other environment
    /// deployed first (the report records it).
    #[arg(long, conflicts_with = "preview")]
    pub allow_unpromoted: bool,
    /// Verify the deploy: a canary run through the pipeline, then the alarms (the
    /// default for a protected env, or as `verify.enabled` says).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not verify the deploy.
    #[arg(long, overrides_with = "verify", conflicts_with = "preview")]
    pub no_verify: bool,
    /// Keep a deploy whose verification fails instead of rolling it back (to debug it).
    #[arg(long, conflicts_with = "preview")]
    pub no_rollback: bool,
    #[command(flatten)]
    pub preview: PreviewArg,
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
            artifacts: self.artifacts.source(ctx),
            artifact_bucket: self.artifacts.artifact_bucket,
            allow_protected: self.allow_protected,
            ci: ctx.process.ci_context(),
            timeout: Duration::from_secs(self.timeout),
            sync: !self.no_sync,
            allow_mass_delete: self.allow_mass_delete,
            allow_unpromoted: self.allow_unpromoted,
            started_at: crate::deploy::artifacts::now_rfc3339_millis(),
            verify: match (self.verify, self.no_verify) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            rollback: !self.no_rollback,
            verify_options: super::verify::verify_options(ctx)?,
        };
        if let Some(pr) = self.preview.preview {
            let head = ctx.process.pull_request_head();
            let spec = crate::config::preview::Spec {
                pull_request: pr,
                head: head.clone(),
                companies: Vec::new(),
            };
            let target = self.env.target(ctx, Preview::New(spec))?;
            return preview(target, req, head, self.base, self.report, delivery, ctx).await;
        }
        let target = self.env.target(ctx, Preview::None)?;
        let report = crate::release::deploy(&target, &req, &ctx.ui).await?;
        write_out(self.report.as_deref(), &report.render_markdown())?;
        // The report first: a comment GitHub refuses must not hide what the deploy did.
        ctx.ui.report(&report, || report.render());
        if let Some(delivery) = delivery {
            let body =
                crate::report::comment::deploy_comment(&report, delivery.target.sha.as_deref());
            crate::comment::post(&delivery, &report.env, &body, &ctx.ui)
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

/// `deploy --preview N`: `target` is the preview.
async fn preview(
    target: Target,
    req: DeployRequest,
    head: Option<String>,
    base: Option<String>,
    report_file: Option<PathBuf>,
    delivery: Option<crate::comment::Delivery>,
    ctx: &Ctx,
) -> Result<u8> {
    let preq = crate::previews::PreviewRequest {
        deploy: req,
        base: base.or_else(|| ctx.process.base_revision()),
    };
    let report = crate::previews::deploy(target, &preq, &ctx.ui).await?;
    let commit = head.or_else(|| preq.deploy.ci.sha.clone());
    let body =
        crate::report::comment::preview_comment(&report, commit.as_deref(), ctx.process.now());
    write_out(report_file.as_deref(), &body)?;
    ctx.ui.report(&report, || report.render());
    if let Some(mut delivery) = delivery {
        let pr = *delivery.target.pr.get_or_insert(report.pull_request);
        crate::comment::post(&delivery, &report.env, &body, &ctx.ui)
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
