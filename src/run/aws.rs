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
    let Invocation {
        env,
        names,
        run_id,
        canary,
        timeout,
        poll,
    } = inv;
    let payload = invoke_payload(&run_id, canary);
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
    let progress = ui.progress(format!("run {run_id}: waiting for results"));
    let summary_key = keys::summary_key(&run_id);
    let mut companies = 0;
    let (done, failing) = loop {
        if let Some(m) = fang_sentiment::store::get_manifest(s3, &names.bucket, &run_id).await? {
            companies = m.companies;
        }
        let keys =
            fang_sentiment::store::list_keys(s3, &names.bucket, &keys::run_prefix(&run_id)).await?;
        let done = keys.iter().filter(|k| keys::is_result_key(k)).count();
        let failing = still_failing(&keys);
        let finished = keys.contains(&summary_key);
        progress.set_message(format!("run {run_id}: {done} of {companies} results"));
        // A canary whose every missing company failed (the sentiment function left a
        // note) ends now: its retry comes only after the queue's visibility timeout.
        let all_failed = companies > 0 && !failing.is_empty() && done + failing.len() >= companies;
        if finished || all_failed || started.elapsed() > timeout {
            break (done, failing);
        }
        tokio::time::sleep(poll).await;
    };
    drop(progress);
    let notes = fang_sentiment::store::get_failure_notes(s3, &names.bucket, &failing).await?;
    let no_text: Vec<CompanyFailure> =
        fang_sentiment::store::get_summary(s3, &names.bucket, &run_id)
            .await?
            .map(|csv| fang_shared::summary::no_text(&csv))
            .unwrap_or_default()
            .into_iter()
            .map(|(company, reason)| CompanyFailure { company, reason })
            .collect();
    // A producer that queued nothing wrote no manifest: as many missing as were asked.
    if companies == 0 {
        companies = canary.map_or(0, <[String]>::len);
    }
    let missing = companies.saturating_sub(done);
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
    let unexplained = missing.saturating_sub(failed.len());
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
    Ok(RunReport {
        env: env.to_owned(),
        run_id,
        bucket: names.bucket.clone(),
        companies,
        succeeded: done - no_text.len().min(done),
        no_text,
        timed_out: unexplained > 0,
        failed,
        duration_s: started.elapsed().as_secs_f64(),
    })
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
