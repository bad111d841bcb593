//! The AWS backend of `fangops run`: the deployed producer is invoked with a run id,
//! then S3 is polled until the run's summary (written by the sentiment function that
//! stores the last result) appears.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fang_shared::{RunId, keys};

use super::{CompanyFailure, RunReport};
use crate::aws::AwsContext;
use crate::config;
use crate::output::Ui;
use crate::resources::Names;

/// Invokes the deployed producer with a run id, then polls S3 for the run's summary.
pub(super) async fn run(
    env: &config::EnvConfig,
    ctx: &AwsContext,
    timeout: Duration,
    ui: &Ui,
) -> Result<RunReport> {
    let started = Instant::now();
    let names = Names::new(&env.stack, &ctx.identity().await?.account);
    let run_id = RunId::generate(time::OffsetDateTime::now_utc(), std::process::id());
    let payload = serde_json::json!({ "run_id": run_id }).to_string();
    let out = ctx
        .lambda()
        .invoke()
        .function_name(&names.producer_function)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
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
    let s3 = ctx.s3();
    let progress = ui.progress(format!("run {run_id}: waiting for results"));
    let summary_key = keys::summary_key(&run_id);
    let mut companies = 0;
    let done = loop {
        if let Some(m) = fang_sentiment::store::get_manifest(&s3, &names.bucket, &run_id).await? {
            companies = m.companies;
        }
        let keys = fang_sentiment::store::list_keys(&s3, &names.bucket, &keys::run_prefix(&run_id))
            .await?;
        let done = keys.iter().filter(|k| keys::is_result_key(k)).count();
        let finished = keys.contains(&summary_key);
        progress.set_message(format!("run {run_id}: {done} of {companies} results"));
        if finished || started.elapsed() > timeout {
            break done;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    drop(progress);
    let no_text: Vec<CompanyFailure> =
        fang_sentiment::store::get_summary(&s3, &names.bucket, &run_id)
            .await?
            .map(|csv| fang_shared::summary::no_text(&csv))
            .unwrap_or_default()
            .into_iter()
            .map(|(company, reason)| CompanyFailure { company, reason })
            .collect();
    let missing = companies.saturating_sub(done);
    let failed = if missing > 0 {
        vec![CompanyFailure {
            company: format!("{missing} companies"),
            reason: format!(
                "no result yet; failed messages end in the dead-letter queue {}",
                names.dlq
            ),
        }]
    } else {
        Vec::new()
    };
    Ok(RunReport {
        env: env.name.clone(),
        run_id,
        bucket: names.bucket,
        companies,
        succeeded: done - no_text.len().min(done),
        no_text,
        timed_out: missing > 0,
        failed,
        duration_s: started.elapsed().as_secs_f64(),
    })
}
