//! Test support: SDK clients that answer from recorded AWS responses (the SDK's
//! `StaticReplayClient`), for the behaviour moto does not have.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

/// A replay client that answers each request with the next `(status, body)`.
pub fn replay(uri: &str, content_type: &str, responses: Vec<(u16, String)>) -> StaticReplayClient {
    replay_with_headers(
        uri,
        content_type,
        responses
            .into_iter()
            .map(|(status, body)| (status, body, Vec::new()))
            .collect(),
    )
}

/// One recorded answer: status, body, and headers besides the content type.
pub type Answer<'a> = (u16, String, Vec<(&'a str, String)>);

/// The same, each answer with headers of its own (S3's `x-amz-checksum-sha256`).
pub fn replay_with_headers(
    uri: &str,
    content_type: &str,
    responses: Vec<Answer<'_>>,
) -> StaticReplayClient {
    StaticReplayClient::new(
        responses
            .into_iter()
            .map(|(status, body, headers)| {
                let mut response = http::Response::builder()
                    .status(status)
                    .header("content-type", content_type);
                for (name, value) in headers {
                    response = response.header(name, value);
                }
                ReplayEvent::new(
                    http::Request::builder()
                        .uri(uri)
                        .body(SdkBody::empty())
                        .unwrap(),
                    response.body(SdkBody::from(body)).unwrap(),
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
            .credentials_provider($crate::testing::replay::credentials())
            .retry_config($sdk::config::retry::RetryConfig::disabled())
            .http_client($replay.clone())
            .build();
        $sdk::Client::from_conf(conf)
    }};
}
pub(crate) use client;

/// CloudFormation's query protocol: XML answers as AWS sends them (request ids
/// shortened), for the deploy and drift tests.
pub mod cfn {
    use std::time::Duration;

    use aws_smithy_http_client::test_util::StaticReplayClient;

    use crate::deploy::stack::Timing;

    pub const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    pub const STACK: &str = "fang-dev";
    pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/fang-dev/6d1a9c30-aea1-11f0-8a3c-0a7d3f1b2c4d";

    pub fn timing() -> Timing {
        Timing {
            poll: Duration::from_millis(1),
            timeout: Duration::from_secs(5),
        }
    }

    pub fn ok(action: &str, result: &str) -> (u16, String) {
        (
            200,
            format!(
                "<{action}Response xmlns=\"{NS}\">\n  <{action}Result>{result}</{action}Result>\n  <ResponseMetadata><RequestId>5f3e1a2b-0c9d-4e8f-a1b2-c3d4e5f60718</RequestId></ResponseMetadata>\n</{action}Response>\n"
            ),
        )
    }

    pub fn error(status: u16, code: &str, message: &str) -> (u16, String) {
        (
            status,
            format!(
                "<ErrorResponse xmlns=\"{NS}\">\n  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\n  <RequestId>8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d</RequestId>\n</ErrorResponse>\n"
            ),
        )
    }

    pub fn replay(responses: Vec<(u16, String)>) -> StaticReplayClient {
        crate::testing::replay::replay(
            "https://cloudformation.us-east-1.amazonaws.com/",
            "text/xml",
            responses,
        )
    }

    pub fn cfn(replay: &StaticReplayClient) -> aws_sdk_cloudformation::Client {
        crate::testing::replay::client!(aws_sdk_cloudformation, replay)
    }

    /// The `Action=` of every request the client sent, in order.
    pub fn actions(replay: &StaticReplayClient) -> Vec<String> {
        replay
            .actual_requests()
            .map(|r| {
                let body = std::str::from_utf8(r.body().bytes().unwrap_or_default()).unwrap();
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    }
}
