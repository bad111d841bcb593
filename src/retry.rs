//! Retrying AWS calls that fangops makes many of (sync's scans and batch writes): which
//! errors are worth another attempt, how long to wait, and when to give up.
//!
//! The SDK retries on its own too, but only a few times and per call. A sync of 10,000
//! companies makes hundreds of calls; it must outlast a throttled table or a flaky
//! network for as long as its deadline allows, and must not hammer it meanwhile.

use std::time::{Duration, Instant};

// The same types in every SDK crate; DynamoDB's re-exports spare two direct dependencies.
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use backon::BackoffBuilder;

/// Error codes that mean "try again later" across the services fangops calls.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "SlowDown",
    "RequestTimeout",
];

/// Whether an SDK error may go away on its own: throttling, a 5xx, a timeout, a dropped
/// or refused connection. Validation and permission errors never do.
pub fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error()
                || s.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

/// Exponential backoff with jitter (so that concurrent writers spread out), bounded by
/// a deadline shared by every call of one operation.
#[derive(Debug)]
pub struct Backoff {
    delays: backon::ExponentialBackoff,
    deadline: Instant,
}

impl Backoff {
    pub fn new(deadline: Instant) -> Self {
        Self {
            delays: backon::ExponentialBuilder::new()
                .with_min_delay(Duration::from_millis(25))
                .with_max_delay(Duration::from_secs(5))
                .with_factor(2.0)
                .with_jitter()
                .without_max_times()
                .build(),
            deadline,
        }
    }

    /// Waits before the next attempt; false when the deadline leaves no time for one.
    pub async fn wait(&mut self) -> bool {
        let delay = self.delays.next().unwrap_or(Duration::from_secs(5));
        // tokio's clock, so that tests with a paused clock see time pass.
        let deadline = tokio::time::Instant::from_std(self.deadline);
        if tokio::time::Instant::now() + delay >= deadline {
            return false;
        }
        tokio::time::sleep(delay).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_and_stops_at_the_deadline() {
        let start = tokio::time::Instant::now();
        let mut b = Backoff::new((start + Duration::from_secs(30)).into_std());
        let mut waits = 0;
        while b.wait().await {
            waits += 1;
            assert!(waits < 100, "never reached the deadline");
        }
        // 25 ms doubling to a 5 s cap (plus up to 100% jitter) fits 30 s in a handful.
        assert!((4..=15).contains(&waits), "{waits} waits");
        assert!(start.elapsed() <= Duration::from_secs(30));
        assert!(
            start.elapsed() >= Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }
}
