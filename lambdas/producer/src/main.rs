//! The Lambda entry point: builds the clients once, then runs the library's `produce`
//! for each scheduled event. Configuration comes from the environment the template sets.

use fang_producer::{Target, produce};
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
    let target = Target {
        table: required_env("TABLE_NAME")?,
        queue_url: required_env("QUEUE_URL")?,
        bucket: required_env("RESULTS_BUCKET")?,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (ddb, sqs, s3, target) = (&ddb, &sqs, &s3, &target);
        async move {
            let now = time::OffsetDateTime::now_utc();
            // `fangops run` passes a run id so it knows which results to wait for; the
            // schedule does not, and gets a fresh one.
            let run_id = match event.payload.get("run_id").and_then(Value::as_str) {
                Some(id) => RunId::new(id)?,
                None => RunId::generate(now, random_u32(&event.context.request_id)),
            };
            let report = produce(ddb, sqs, s3, target, &run_id, now).await?;
            Ok::<_, Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}

/// The request id is unique per invocation: a good enough source for a run id suffix.
fn random_u32(request_id: &str) -> u32 {
    request_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
