//! `fangops deploy` whole: the stack (`deploy`), then, when verification is on, its
//! proof (`verify`), and a rollback (`rollback`) of a deploy that fails it. Above the
//! three so that none of them depends on another's caller.

use std::time::Instant;

use anyhow::Result;

use crate::aws::AwsContext;
use crate::config::EnvConfig;
use crate::deploy::{self, AfterFailure, DeployReport, DeployRequest, Outcome, promotion};
use crate::output::Ui;
use crate::verify;

/// Deploys, verifies when asked to (`--verify`, `verify.enabled`, a protected env),
/// and rolls back a deploy that fails its verification unless told not to.
pub async fn deploy(req: &DeployRequest, ui: &Ui) -> Result<DeployReport> {
    let env = deploy::load(req)?;
    let ctx = AwsContext::new(&env, req.endpoint.as_ref()).await?;
    deploy_env(req, env, &ctx, ui).await
}

/// [`deploy`] of an env already loaded as [`deploy::load`] gives it, in its context:
/// for a caller that read the file and made the context already (a preview's deploy).
pub async fn deploy_env(
    req: &DeployRequest,
    env: EnvConfig,
    ctx: &AwsContext,
    ui: &Ui,
) -> Result<DeployReport> {
    let started = Instant::now();
    let p = deploy::prepare_env(req, env, ctx).await?;
    // What was in ALARM before the deploy is not the deploy's doing: read before any
    // change, so that a verification can tell.
    let before = if req.verify.unwrap_or(p.env.verify.enabled) {
        Some(verify::snapshot(&ctx.cloudwatch(), &p.env.stack).await?)
    } else {
        None
    };
    let mut report = deploy::deploy_prepared(req, &p, ctx, started, ui).await?;
    let Some(before) = before.filter(|_| report.outcome != Outcome::Failed) else {
        return Ok(report);
    };
    let verification = verify::verify(&req.root, &p.env, ctx, &before, &req.verify_options, ui)
        .await
        .unwrap_or_else(|e| verify::could_not_verify(&p.env, &e));
    tracing::info!("{}: {}", p.env.stack, verification.summary());
    if let Some(mut record) = report.record.take() {
        record.verification = Some(promotion::RecordedVerification::of(&verification));
        if let Err(e) = promotion::record(
            &ctx.s3(),
            &p.artifact_bucket,
            &record,
            Some(&p.template.body),
        )
        .await
        {
            report
                .warnings
                .push(format!("the verification was not recorded: {e:#}"));
        }
        report.record = Some(record);
    }
    let passed = verification.passed;
    report.verification = Some(verification);
    if !passed {
        // A preview is disposable, and its failed state is what its pull request needs
        // to see: never rolled back.
        report.rollback = Some(if !req.rollback || p.env.preview.is_some() {
            AfterFailure::Kept
        } else if report.outcome == Outcome::Unchanged {
            AfterFailure::NothingToUndo
        } else {
            let restore = crate::rollback::Restore {
                root: &req.root,
                env: &p.env,
                ctx,
                bucket: &p.artifact_bucket,
                to: None,
                verify: true,
                options: &req.verify_options,
                timeout: req.timeout,
            };
            AfterFailure::RolledBack(Box::new(crate::rollback::restore(restore, ui).await))
        });
    }
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}
