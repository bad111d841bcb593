//! `fangops deploy` whole: the stack (`deploy`), then, when verification is on, its
//! proof (`verify`), and a rollback (`rollback`) of a deploy that fails it. Above the
//! three so that none of them depends on another's caller.

pub mod history;
pub mod rollback;
pub mod verify;

use std::time::Instant;

use anyhow::Result;

use crate::deploy::{self, AfterFailure, DeployReport, DeployRequest, Outcome, promotion};
use crate::output::Ui;
use crate::target::Target;

/// Deploys, verifies when asked to (`--verify`, `verify.enabled`, a protected env),
/// and rolls back a deploy that fails its verification unless told not to. A preview
/// (`target` is one) is verified, never rolled back.
pub async fn deploy(target: &Target, req: &DeployRequest, ui: &Ui) -> Result<DeployReport> {
    deploy::check(target, req)?;
    let started = Instant::now();
    let p = deploy::prepare(target, &req.artifacts, req.artifact_bucket.as_deref()).await?;
    let ctx = target.aws().await?;
    // What was in ALARM before the deploy is not the deploy's doing: read before any
    // change, so that a verification can tell.
    let before = if req.verify.unwrap_or(p.env.verify.enabled) {
        Some(verify::snapshot(&ctx.cloudwatch(), &p.env.stack).await?)
    } else {
        None
    };
    let mut report = deploy::deploy_prepared(target, req, &p, started, ui).await?;
    let Some(before) = before.filter(|_| report.outcome != Outcome::Failed) else {
        return Ok(report);
    };
    let verification = verify::verify(target, &before, &req.verify_options, ui)
        .await
        .unwrap_or_else(|e| verify::could_not_verify(&p.env, &e));
    tracing::info!("{}: {}", p.env.stack, verification.summary());
    if let Some(mut record) = report.record.take() {
        record.verification = Some(promotion::RecordedVerification::of(&verification));
        // The deploy's record is there (`report.record` is set only then), and its
        // template with it.
        if let Err(e) = promotion::record(&ctx.s3(), &p.artifact_bucket, &record, None).await {
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
            let restore = rollback::Restore {
                target,
                bucket: &p.artifact_bucket,
                to: None,
                verify: true,
                options: &req.verify_options,
                timeout: req.timeout,
            };
            AfterFailure::RolledBack(Box::new(rollback::restore(restore, ui).await))
        });
    }
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}
