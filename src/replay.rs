//! Test support: SDK clients that answer from recorded AWS responses (the SDK's
//! `StaticReplayClient`), for the behaviour moto does not have.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

/// A replay client that answers each request with the next `(status, body)`.
pub fn replay(uri: &str, content_type: &str, responses: Vec<(u16, String)>) -> StaticReplayClient {
    StaticReplayClient::new(
        responses
            .into_iter()
            .map(|(status, body)| {
                ReplayEvent::new(
                    http::Request::builder()
                        .uri(uri)
                        .body(SdkBody::empty())
                        .unwrap(),
                    http::Response::builder()
                        .status(status)
                        .header("content-type", content_type)
                        .body(SdkBody::from(body))
                        .unwrap(),
                )
            })
            .collect(),
    )
}

pub fn credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "replay")
}

/// `client!(aws_sdk_s3, &replay)`: a client of that SDK crate on the replay client,
/// making one attempt per call so that fangops's own handling is what runs.
macro_rules! client {
    ($sdk:ident, $replay:expr) => {{
        let conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($crate::replay::credentials())
            .retry_config($sdk::config::retry::RetryConfig::disabled())
            .http_client($replay.clone())
            .build();
        $sdk::Client::from_conf(conf)
    }};
}
pub(crate) use client;
