//! The Lambda entry point: builds the clients and the text source once, then runs the
//! library's handler for each SQS batch. Configuration comes from the environment the
//! template sets: RESULTS_BUCKET, TEXT_SOURCE (wikipedia|fixtures), ANALYZER
//! (comprehend|vader), STACK_NAME (the dimension of the results metric),
//! WIKIPEDIA_BASE_URL (optional).

use fang_sentiment::analyze::Analyzer;
use fang_sentiment::text::{TextSource, WIKIPEDIA_BASE_URL, Wikipedia};
use fang_sentiment::{Deps, SqsEvent, handle_batch};
use fang_shared::required_env;
use lambda_runtime::{Error, LambdaEvent, service_fn};

/// The invocation's deadline (milliseconds since the epoch, from the Runtime API's
/// `Lambda-Runtime-Deadline-Ms`) as an `Instant`.
fn deadline_instant(deadline_ms: u64) -> std::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    std::time::Instant::now() + std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// The function's edge reads its environment here and in `required_env`.
#[allow(clippy::disallowed_methods)]
fn optional_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_target(false)
        .without_time()
        .init();
    let config = aws_config::load_from_env().await;
    let text = match required_env("TEXT_SOURCE")?.as_str() {
        "fixtures" => TextSource::Fixtures,
        "wikipedia" => TextSource::Wikipedia(Wikipedia::new(
            &optional_env("WIKIPEDIA_BASE_URL").unwrap_or_else(|| WIKIPEDIA_BASE_URL.to_owned()),
        )?),
        other => {
            return Err(format!("TEXT_SOURCE={other:?}: expected wikipedia or fixtures").into());
        }
    };
    let analyzer = match required_env("ANALYZER")?.as_str() {
        "comprehend" => Analyzer::Comprehend(aws_sdk_comprehend::Client::new(&config)),
        "vader" => Analyzer::Vader,
        other => return Err(format!("ANALYZER={other:?}: expected comprehend or vader").into()),
    };
    let deps = Deps {
        text,
        analyzer,
        s3: aws_sdk_s3::Client::new(&config),
        bucket: required_env("RESULTS_BUCKET")?,
        write_summary: true,
        // CACHE_MAX_AGE_DAYS (the env file's `cache.max_age_days`): 0 or unset, off.
        cache: match optional_env("CACHE_MAX_AGE_DAYS").map(|d| d.parse::<i64>()) {
            None | Some(Ok(0)) => None,
            Some(Ok(days)) if days > 0 => Some(fang_sentiment::cache::Cache {
                max_age: time::Duration::days(days),
            }),
            Some(other) => {
                return Err(format!("CACHE_MAX_AGE_DAYS: expected days, got {other:?}").into());
            }
        },
    };
    let stack = required_env("STACK_NAME")?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (deps, stack) = (&deps, &stack);
        async move {
            let now = time::OffsetDateTime::now_utc();
            let deadline = deadline_instant(event.context.deadline);
            let outcome = handle_batch(deps, &event.payload, now, deadline).await;
            // The batch's metrics (the "no results" alarm's among them), as one
            // embedded-metric-format log line.
            let ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
            println!(
                "{}",
                fang_shared::metrics::batch_line(stack, &outcome.metrics, ms)
            );
            Ok::<_, Error>(outcome.response)
        }
    }))
    .await
}
