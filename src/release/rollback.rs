//! `fangops rollback --env E [--to N]`, and a deploy's answer to a failed verification:
//! the stack is deployed again as a recorded deploy left it (its template, parameters
//! and artifacts, all kept in the artifact bucket), then verified again.
//!
//! The target is the newest record that went through, verified, and differs from what
//! the stack runs now; `--to N` names a row of `fangops history` instead. Only the stack
//! goes back: the companies table keeps the list the env file has (a list is data, and
//! `sync` owns it).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::deploy::promotion::{self, Record, RecordedVerification};
use crate::deploy::stack::{self, ChangeSetSpec, Timing};
pub use crate::deploy::verdict::{RestoredDeploy, RollbackOutcome, RollbackReport};
use crate::deploy::{self, Outcome, artifacts, params};
use crate::diagnostics::{Diagnostic, InvalidInput};
use crate::output::Ui;
use crate::release::verify::{self, VerifyOptions};
use crate::target::Target;

/// How many records a rollback looks through for a target.
const SEARCH_DEPTH: usize = 100;

#[derive(Debug, Clone)]
pub struct RollbackRequest {
    pub artifact_bucket: Option<String>,
    /// A row of `fangops history` (1 = newest); the newest verified record otherwise.
    pub to: Option<usize>,
    /// Verify the restored stack (off with `--no-verify`).
    pub verify: bool,
    pub options: VerifyOptions,
    pub timeout: Duration,
}

/// What a rollback needs: the env and its artifact bucket.
#[derive(Debug)]
pub struct Restore<'a> {
    pub target: &'a Target,
    pub bucket: &'a str,
    pub to: Option<usize>,
    pub verify: bool,
    pub options: &'a VerifyOptions,
    pub timeout: Duration,
}

/// Restores a recorded deploy. Never an `Err`: a rollback that cannot happen says why
/// in its report, which a failed deploy's report carries. Bad input (`--to` naming a
/// row that cannot be restored) is the exception, for the command to exit 2.
pub async fn restore(r: Restore<'_>, ui: &Ui) -> RollbackReport {
    let started = Instant::now();
    let mut report = RollbackReport {
        env: r.target.env.name.clone(),
        stack: r.target.env.stack.clone(),
        outcome: RollbackOutcome::Failed,
        to: None,
        final_status: None,
        verification: None,
        reason: None,
        duration_s: 0.0,
    };
    if let Err(e) = restore_into(&r, &mut report, ui).await {
        report.outcome = RollbackOutcome::Failed;
        report.reason = Some(format!("{e:#}"));
    }
    report.duration_s = started.elapsed().as_secs_f64();
    report
}

async fn restore_into(r: &Restore<'_>, report: &mut RollbackReport, ui: &Ui) -> Result<()> {
    let (env, ctx) = (&r.target.env, r.target.aws().await?);
    let (cfn, s3) = (ctx.cloudformation(), ctx.s3());
    let stack_name = &env.stack;
    let timing = Timing::new(ctx.is_local(), r.timeout);
    let progress = ui.progress(format!("rolling back stack {stack_name}"));
    let say = |line: &str| progress.println(line.to_owned());
    let settled = stack::settle(&cfn, stack_name, timing, &say).await?;
    let live = settled
        .existing
        .as_ref()
        .and_then(|i| i.parameters.get(params::FINGERPRINT).cloned());
    let (records, _) = promotion::records(&s3, r.bucket, stack_name, SEARCH_DEPTH).await?;
    let Some(chosen) = choose(r, &records, live.as_deref(), report)? else {
        return Ok(());
    };

    let (template, parameters) = restorable(&s3, r.bucket, chosen).await?;

    let before = if r.verify {
        Some(verify::snapshot(&ctx.cloudwatch(), stack_name).await?)
    } else {
        None
    };
    let started_at = artifacts::now_rfc3339_millis();
    let account = ctx.identity().await?.account.clone();
    let tags = params::tags(env);
    let role = env.cloudformation_role_arn(&account);
    let name = deploy::change_set_name();
    let spec = ChangeSetSpec {
        stack: stack_name,
        name: &name,
        create: settled
            .existing
            .as_ref()
            .is_none_or(stack::StackInfo::is_unborn),
        template_body: &template,
        parameters: &parameters,
        tags: &tags,
        role_arn: role.as_deref(),
    };
    let applied =
        deploy::apply_change_set(&cfn, &spec, settled.existing.is_some(), timing, &progress)
            .await?;
    drop(progress);
    report.final_status = applied.final_status.clone();
    refuse_failed(stack_name, &applied)?;
    let record = Record {
        protected: env.protected,
        outcome: serde_json::to_value(applied.outcome)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        started_at,
        deployed_at: artifacts::now_rfc3339_millis(),
        unpromoted: false,
        verification: None,
        restores: Some(chosen.deployed_at.clone()),
        ..chosen.clone()
    };
    record_and_verify(r, record, &template, before, report, ui).await
}

/// The deploy to restore, said in the report; `None` (the report saying why) when no
/// earlier deploy passed its verification, or when the stack already runs the chosen one.
fn choose<'a>(
    r: &Restore<'_>,
    records: &'a [Record],
    live: Option<&str>,
    report: &mut RollbackReport,
) -> Result<Option<&'a Record>> {
    let env = &r.target.env;
    let Some(chosen) = pick(records, r.to, live, &env.path)? else {
        report.outcome = RollbackOutcome::NoTarget;
        report.reason = Some(format!(
            "no earlier deploy of {} passed its verification (see `fangops history --env {}`); the stack keeps its state",
            env.stack, env.name
        ));
        return Ok(None);
    };
    report.to = Some(RestoredDeploy {
        commit: chosen.commit.clone(),
        deployed_at: chosen.deployed_at.clone(),
        verified_at: chosen.verification.as_ref().map(|v| v.at.clone()),
    });
    // `--to` may name what the stack runs: a change set would change nothing, and a
    // record of it would read as a rollback that never happened.
    if live == Some(chosen.fingerprint.as_str()) {
        report.outcome = RollbackOutcome::AlreadyRunning;
        return Ok(None);
    }
    Ok(Some(chosen))
}

/// A change set that failed is the rollback's error, naming the resources that failed.
fn refuse_failed(stack_name: &str, applied: &deploy::Applied) -> Result<()> {
    if applied.outcome == Outcome::Failed {
        bail!(
            "stack {stack_name} ended {}: {}",
            applied.final_status.as_deref().unwrap_or("failed"),
            applied
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.logical_id, f.reason))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(())
}

/// Everything `chosen` needs, checked to be still there before the stack is touched:
/// its template's text and its zips; returns the template and the parameters to send.
async fn restorable(
    s3: &aws_sdk_s3::Client,
    records_bucket: &str,
    chosen: &Record,
) -> Result<(String, Vec<(String, String)>)> {
    let template_key = promotion::template_key(&chosen.template_sha256);
    let template = artifacts::get_text(s3, records_bucket, &template_key)
        .await?
        .with_context(|| {
            format!(
                "the template of the deploy of {} (s3://{records_bucket}/{template_key}) is gone",
                chosen.deployed_at
            )
        })?;
    for key in ["ProducerCodeKey", "SentimentCodeKey"] {
        let (Some(bucket), Some(code)) = (
            chosen.parameters.get("ArtifactBucket"),
            chosen.parameters.get(key),
        ) else {
            bail!(
                "the record of the deploy of {} has no {key}",
                chosen.deployed_at
            );
        };
        s3.head_object()
            .bucket(bucket)
            .key(code)
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("checking that s3://{bucket}/{code} is still there"))?;
    }
    let mut parameters: Vec<(String, String)> = chosen
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    parameters.push((params::FINGERPRINT.to_owned(), chosen.fingerprint.clone()));
    Ok((template, parameters))
}

/// Records the rollback, then, when asked, verifies the restored stack and records the
/// verdict on the same record.
async fn record_and_verify(
    r: &Restore<'_>,
    mut record: Record,
    template: &str,
    before: Option<verify::AlarmSnapshot>,
    report: &mut RollbackReport,
    ui: &Ui,
) -> Result<()> {
    let s3 = r.target.aws().await?.s3();
    promotion::record(&s3, r.bucket, &record, Some(template))
        .await
        .context("recording the rollback")?;
    report.outcome = RollbackOutcome::RolledBack;
    if let Some(before) = before {
        let v = verify::verify(r.target, &before, r.options, ui)
            .await
            .unwrap_or_else(|e| verify::could_not_verify(&r.target.env, &e));
        record.verification = Some(RecordedVerification::of(&v));
        // The template went with the record above.
        promotion::record(&s3, r.bucket, &record, None)
            .await
            .context("recording the rollback's verification")?;
        if !v.passed {
            report.outcome = RollbackOutcome::RolledBackUnverified;
        }
        report.verification = Some(v);
    }
    Ok(())
}

/// The record to restore: `--to N` (a history row), else the newest that verified and
/// is not what the stack runs now.
fn pick<'a>(
    records: &'a [Record],
    to: Option<usize>,
    live: Option<&str>,
    env_path: &Path,
) -> Result<Option<&'a Record>> {
    let Some(n) = to else {
        return Ok(records
            .iter()
            .find(|r| r.verified() && Some(r.fingerprint.as_str()) != live));
    };
    let bad = |message: String| -> anyhow::Error {
        InvalidInput(vec![Diagnostic::whole_file(env_path, message)]).into()
    };
    let Some(r) = n.checked_sub(1).and_then(|i| records.get(i)) else {
        return Err(bad(format!(
            "--to {n}: the history holds {} deploy{} (`fangops history` numbers them from 1, newest first)",
            records.len(),
            if records.len() == 1 { "" } else { "s" }
        )));
    };
    if r.outcome == "failed" {
        return Err(bad(format!(
            "--to {n}: the deploy of {} failed; CloudFormation rolled it back already. Pick one that went through",
            r.deployed_at
        )));
    }
    Ok(Some(r))
}

/// `fangops rollback --env E`.
pub async fn run(target: &Target, req: &RollbackRequest, ui: &Ui) -> Result<RollbackReport> {
    let (env, ctx) = (&target.env, target.aws().await?);
    ctx.ensure_account().await?;
    let bucket = artifacts::bucket_of(ctx, req.artifact_bucket.as_deref()).await?;
    // `--to` is checked before anything changes, so that a bad row exits 2.
    if req.to.is_some() {
        let (records, _) = promotion::records(&ctx.s3(), &bucket, &env.stack, SEARCH_DEPTH).await?;
        pick(&records, req.to, None, &env.path)?;
    }
    let restore_req = Restore {
        target,
        bucket: &bucket,
        to: req.to,
        verify: req.verify,
        options: &req.options,
        timeout: req.timeout,
    };
    Ok(restore(restore_req, ui).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: &str, at: &str, fingerprint: &str, passed: Option<bool>) -> Record {
        Record {
            commit: Some(format!("{at}-commit")),
            fingerprint: fingerprint.into(),
            ..promotion::sample_record(at, outcome, passed)
        }
    }

    #[test]
    fn the_target_is_the_newest_verified_record_the_stack_does_not_run() {
        let path = Path::new("environments/dev.yaml");
        let records = vec![
            record("updated", "5", "f5", Some(false)),
            record("failed", "4", "f4", None),
            record("updated", "3", "f3", None),
            record("unchanged", "2", "f5", Some(true)),
            record("updated", "1", "f1", Some(true)),
        ];
        // "2" verified but is what the stack runs (f5); "3" never verified.
        let t = pick(&records, None, Some("f5"), path).unwrap().unwrap();
        assert_eq!(t.deployed_at, "1");
        let t = pick(&records, None, Some("f3"), path).unwrap().unwrap();
        assert_eq!(t.deployed_at, "2");
        assert!(
            pick(&records[..3], None, Some("f5"), path)
                .unwrap()
                .is_none()
        );
        // --to names a row; a failed deploy or a row past the end is bad input.
        assert_eq!(
            pick(&records, Some(3), Some("f5"), path)
                .unwrap()
                .unwrap()
                .deployed_at,
            "3"
        );
        let err = pick(&records, Some(2), None, path).unwrap_err();
        assert!(err.downcast_ref::<InvalidInput>().is_some());
        assert!(format!("{err:#}").contains("failed"), "{err:#}");
        let err = pick(&records, Some(6), None, path).unwrap_err();
        assert!(format!("{err:#}").contains("holds 5 deploys"), "{err:#}");
        assert!(pick(&records, Some(0), None, path).is_err());
    }

    #[test]
    fn rollback_lines_say_where_to_and_why_not() {
        let report = RollbackReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            outcome: RollbackOutcome::RolledBack,
            to: Some(RestoredDeploy {
                commit: Some("0123456789abcdef".into()),
                deployed_at: "2026-11-30T07:01:42.000Z".into(),
                verified_at: Some("2026-11-30T07:02:10.000Z".into()),
            }),
            final_status: Some("UPDATE_COMPLETE".into()),
            verification: None,
            reason: None,
            duration_s: 31.0,
        };
        assert_eq!(
            report.summary_as(crate::markdown::Flavor::Markdown),
            "rolled back to `0123456` (verified 2026-11-30)"
        );
        let already = RollbackReport {
            outcome: RollbackOutcome::AlreadyRunning,
            final_status: None,
            ..report.clone()
        };
        assert_eq!(
            already.summary_as(crate::markdown::Flavor::Markdown),
            "not rolled back: the stack already runs `0123456` (verified 2026-11-30)"
        );
        assert!(!already.ok() && already.on_target());
        let none = RollbackReport {
            outcome: RollbackOutcome::NoTarget,
            to: None,
            final_status: None,
            reason: Some("no earlier deploy of fang-dev passed its verification".into()),
            ..report
        };
        insta::assert_snapshot!("rollback_no_target", crate::output::plain(&none.render()));
    }
}
