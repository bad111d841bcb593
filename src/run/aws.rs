//! The AWS backend of `fangops run`: the deployed producer is invoked with a run id,
//! then S3 is polled until the run's summary (written by the sentiment function that
//! stores the last result) appears.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fang_shared::{RunId, keys};

use super::{CompanyFailure, RunReport, RunRequest};
use crate::aws::AwsContext;
use crate::config;
use crate::output::Ui;
use crate::resources::Names;

/// Invokes the deployed producer with a run id, then polls S3 for the run's summary.
pub(super) async fn run(
    env: &config::EnvConfig,
    ctx: &AwsContext,
    req: &RunRequest,
    ui: &Ui,
) -> Result<RunReport> {
    let names = Names::new(&env.stack, &ctx.identity().await?.account);
    let invocation = Invocation {
        env: &env.name,
        names: &names,
        run_id: req.new_run_id(time::OffsetDateTime::now_utc(), std::process::id()),
        canary: req.canary.as_deref(),
        timeout: req.timeout,
        poll: POLL,
    };
    invoke_and_wait(&ctx.lambda(), &ctx.s3(), invocation, ui).await
}

/// How often S3 is asked whether the run is done.
const POLL: Duration = Duration::from_secs(2);

/// One run through the deployed pipeline.
pub(crate) struct Invocation<'a> {
    pub env: &'a str,
    pub names: &'a Names,
    pub run_id: RunId,
    pub canary: Option<&'a [String]>,
    pub timeout: Duration,
    pub poll: Duration,
}

/// The producer invoked synchronously (Invoke's default `RequestResponse`: it returns
/// once the messages are queued, and a function that failed says so with the
/// `X-Amz-Function-Error` header and its error as the payload), then S3 polled for the
/// manifest, the results and the summary until the summary appears or time runs out.
pub(crate) async fn invoke_and_wait(
    lambda: &aws_sdk_lambda::Client,
    s3: &aws_sdk_s3::Client,
    inv: Invocation<'_>,
    ui: &Ui,
) -> Result<RunReport> {
    let started = Instant::now();
    invoke_producer(lambda, &inv).await?;
    let Waited {
        mut companies,
        done,
        failing,
    } = wait_for_summary(s3, &inv, started, ui).await?;
    let names = inv.names;
    let notes = fang_sentiment::store::get_failure_notes(s3, &names.bucket, &failing).await?;
    let no_text = no_text(s3, &names.bucket, &inv.run_id).await?;
    // A producer that queued nothing wrote no manifest: as many missing as were asked.
    if companies == 0 {
        companies = inv.canary.map_or(0, <[String]>::len);
    }
    let missing = companies.saturating_sub(done);
    let unexplained = missing.saturating_sub(notes.len());
    let failed = failures(notes, unexplained, names, inv.timeout);
    Ok(RunReport {
        env: inv.env.to_owned(),
        run_id: inv.run_id,
        bucket: names.bucket.clone(),
        companies,
        succeeded: done - no_text.len().min(done),
        no_text,
        timed_out: unexplained > 0,
        failed,
        duration_s: started.elapsed().as_secs_f64(),
    })
}

/// The producer invoked with the run's payload; a function error is the run's error.
async fn invoke_producer(lambda: &aws_sdk_lambda::Client, inv: &Invocation<'_>) -> Result<()> {
    let names = inv.names;
    let payload = invoke_payload(&inv.run_id, inv.canary);
    let out = lambda
        .invoke()
        .function_name(&names.producer_function)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("invoking function {}", names.producer_function))?;
    if let Some(err) = out.function_error() {
        let body = out
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        anyhow::bail!(
            "function {} failed ({err}): {body}",
            names.producer_function
        );
    }
    Ok(())
}

/// Where a run stood when the wait ended.
struct Waited {
    /// Companies the manifest lists (0 while there is none).
    companies: usize,
    /// Results written.
    done: usize,
    /// Failure notes of companies without a result.
    failing: Vec<String>,
}

/// S3 polled for the run's manifest, results and summary until the summary appears,
/// every missing company has failed, or the invocation's timeout passes.
async fn wait_for_summary(
    s3: &aws_sdk_s3::Client,
    inv: &Invocation<'_>,
    started: Instant,
    ui: &Ui,
) -> Result<Waited> {
    let (names, run_id) = (inv.names, &inv.run_id);
    let progress = ui.progress(format!("run {run_id}: waiting for results"));
    let summary_key = keys::summary_key(run_id);
    let mut companies = 0;
    loop {
        if let Some(m) = fang_sentiment::store::get_manifest(s3, &names.bucket, run_id).await? {
            companies = m.companies;
        }
        let keys =
            fang_sentiment::store::list_keys(s3, &names.bucket, &keys::run_prefix(run_id)).await?;
        let done = keys.iter().filter(|k| keys::is_result_key(k)).count();
        let failing = still_failing(&keys);
        let finished = keys.contains(&summary_key);
        progress.set_message(format!("run {run_id}: {done} of {companies} results"));
        // A canary whose every missing company failed (the sentiment function left a
        // note) ends now: its retry comes only after the queue's visibility timeout.
        let all_failed = companies > 0 && !failing.is_empty() && done + failing.len() >= companies;
        if finished || all_failed || started.elapsed() > inv.timeout {
            drop(progress);
            return Ok(Waited {
                companies,
                done,
                failing,
            });
        }
        tokio::time::sleep(inv.poll).await;
    }
}

/// The companies whose text was not found, from the run's summary (none without one).
async fn no_text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Vec<CompanyFailure>> {
    Ok(fang_sentiment::store::get_summary(s3, bucket, run_id)
        .await?
        .map(|csv| fang_shared::summary::no_text(&csv))
        .unwrap_or_default()
        .into_iter()
        .map(|(company, reason)| CompanyFailure { company, reason })
        .collect())
}

/// The failed companies: one a failure note, and the `unexplained` missing ones
/// counted together.
fn failures(
    notes: Vec<fang_shared::FailureNote>,
    unexplained: usize,
    names: &Names,
    timeout: Duration,
) -> Vec<CompanyFailure> {
    let mut failed: Vec<CompanyFailure> = notes
        .into_iter()
        .map(|n| CompanyFailure {
            company: n.company,
            reason: format!(
                "{} (the message is tried again after the queue's visibility timeout, then goes to the dead-letter queue {})",
                n.reason, names.dlq
            ),
        })
        .collect();
    if unexplained > 0 {
        failed.push(CompanyFailure {
            company: format!(
                "{unexplained} compan{}",
                if unexplained == 1 { "y" } else { "ies" }
            ),
            reason: format!(
                "no result within {} s; failed messages end in the dead-letter queue {}",
                timeout.as_secs(),
                names.dlq
            ),
        });
    }
    failed
}

/// The failure notes of companies that have no result yet (a later attempt that
/// succeeded leaves a result beside the note of the one that failed).
pub(crate) fn still_failing(keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| keys::is_failure_key(k))
        .filter(|k| {
            let result = k.replacen(keys::FAILURES_DIR, "", 1);
            !keys.contains(&result)
        })
        .cloned()
        .collect()
}

/// What the producer is invoked with: the run id, and a canary's companies (the
/// producer's `canary_companies` reads them).
fn invoke_payload(run_id: &RunId, canary: Option<&[String]>) -> String {
    match canary {
        Some(companies) => serde_json::json!({ "run_id": run_id, "companies": companies }),
        None => serde_json::json!({ "run_id": run_id }),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canary_payload_names_its_companies() {
        let id = RunId::new("canary-20261201T070000Z-00000001").unwrap();
        let payload: serde_json::Value =
            serde_json::from_str(&invoke_payload(&id, Some(&["Apple".to_owned()]))).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"companies": ["Apple"], "run_id": "canary-20261201T070000Z-00000001"})
        );
        assert_eq!(
            invoke_payload(&id, None),
            r#"{"run_id":"canary-20261201T070000Z-00000001"}"#
        );
    }
}
