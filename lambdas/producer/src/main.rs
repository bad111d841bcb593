//! The Lambda entry point: builds the clients once, then runs the library's `produce`
//! for each scheduled event. Configuration comes from the environment the template sets.

use fang_producer::{Run, Target, produce};
use fang_shared::{RunId, required_env};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_target(false)
        .without_time()
        .init();
    let config = aws_config::load_from_env().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    // Absent in templates from before the alarm was armed by runs.
    #[allow(clippy::disallowed_methods)]
    let no_results_alarm = std::env::var("NO_RESULTS_ALARM")
        .ok()
        .filter(|a| !a.is_empty());
    let target = Target {
        table: required_env("TABLE_NAME")?,
        queue_url: required_env("QUEUE_URL")?,
        bucket: required_env("RESULTS_BUCKET")?,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (ddb, sqs, s3, target) = (&ddb, &sqs, &s3, &target);
        let (cw, no_results_alarm) = (&cw, &no_results_alarm);
        async move {
            let now = time::OffsetDateTime::now_utc();
            let run_id = run_id(&event.payload, now, &event.context.request_id)?;
            let only = canary_companies(&event.payload)?;
            let run = Run {
                id: &run_id,
                started_at: now,
                invocation: &event.context.request_id,
                only: only.as_deref(),
            };
            let report = produce(ddb, sqs, s3, target, run).await?;
            // A canary (fangops's verification of a deploy) is not a scheduled run:
            // it leaves the no-results alarm as it was.
            if let Some(alarm) = no_results_alarm
                .as_deref()
                .filter(|_| !report.already_claimed && !run_id.is_canary())
            {
                fang_producer::arm_alarm(cw, alarm).await;
            }
            Ok::<_, Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}

/// The run of an invocation: `fangops run` passes its own id; a scheduled event's id and
/// time make its run id, so a repeated or retried delivery is the same run; anything
/// else gets a fresh one.
fn run_id(payload: &Value, now: time::OffsetDateTime, request_id: &str) -> Result<RunId, Error> {
    if let Some(id) = payload.get("run_id").and_then(Value::as_str) {
        return Ok(RunId::new(id)?);
    }
    let event_id = payload.get("id").and_then(Value::as_str);
    let time = payload.get("time").and_then(Value::as_str).and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    Ok(match (event_id, time) {
        (Some(id), Some(t)) => RunId::for_event(t, id),
        _ => RunId::generate(now, random_u32(request_id)),
    })
}

/// `fangops verify` names the companies of its canary run: `{"run_id": "canary-…",
/// "companies": ["Apple"]}`.
fn canary_companies(payload: &Value) -> Result<Option<Vec<String>>, Error> {
    match payload.get("companies") {
        None | Some(Value::Null) => Ok(None),
        Some(list) => Ok(Some(serde_json::from_value(list.clone()).map_err(|e| {
            format!("\"companies\" must be a list of company names: {e}")
        })?)),
    }
}

/// The request id is unique per invocation: a good enough source for a run id suffix.
fn random_u32(request_id: &str) -> u32 {
    request_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
