//! The sentiment function's outside world: Wikipedia through a local HTTP server
//! (wiremock), Amazon Comprehend through recorded AWS responses (the SDK's replay
//! client), since moto's Comprehend gives one canned answer and lacks the batch API.

// Helpers here are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use fang_sentiment::analyze::{Analyzer, COMPREHEND_MAX_BYTES};
use fang_sentiment::text::{TextError, USER_AGENT, Wikipedia};
use fang_shared::Sentiment;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn summary(kind: &str, extract: &str, page: &str) -> serde_json::Value {
    serde_json::json!({
        "type": kind,
        "title": "x",
        "extract": extract,
        "content_urls": { "desktop": { "page": page } }
    })
}

async fn wikipedia(server: &MockServer) -> Wikipedia {
    Wikipedia::new(&server.uri())
        .unwrap()
        .with_backoff(Duration::from_millis(5))
}

#[tokio::test]
async fn summary_with_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/page/summary/Meta_Platforms"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary(
            "standard",
            "Meta Platforms, Inc. is an American technology company.",
            "https://en.wikipedia.org/wiki/Meta_Platforms",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let text = wikipedia(&server)
        .await
        .summary("Meta Platforms")
        .await
        .unwrap();
    assert_eq!(
        text.source_url,
        "https://en.wikipedia.org/wiki/Meta_Platforms"
    );
    assert!(text.text.starts_with("Meta Platforms, Inc."));
}

#[tokio::test]
async fn missing_page_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Nonexistent_Corp"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"type": "not_found"})),
        )
        .mount(&server)
        .await;
    let err = wikipedia(&server)
        .await
        .summary("Nonexistent Corp")
        .await
        .unwrap_err();
    assert_eq!(err, TextError::NotFound("Nonexistent Corp".into()));
    assert_eq!(
        err.to_string(),
        "no Wikipedia page for \"Nonexistent Corp\""
    );
}

#[tokio::test]
async fn disambiguation_page_is_reported_as_such() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Mercury"))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary(
            "disambiguation",
            "Mercury may refer to:",
            "https://en.wikipedia.org/wiki/Mercury",
        )))
        .mount(&server)
        .await;
    let err = wikipedia(&server)
        .await
        .summary("Mercury")
        .await
        .unwrap_err();
    assert!(matches!(err, TextError::Disambiguation(_)), "{err}");
    assert!(err.to_string().contains("disambiguation page"));
}

#[tokio::test]
async fn rate_limited_then_success_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Apple"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Apple"))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary(
            "standard",
            "Apple Inc. is an American technology company.",
            "https://en.wikipedia.org/wiki/Apple_Inc.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let text = wikipedia(&server).await.summary("Apple").await.unwrap();
    assert!(text.text.starts_with("Apple Inc."));
}

#[tokio::test]
async fn rate_limited_for_good_gives_up_after_four_attempts() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Apple"))
        .respond_with(ResponseTemplate::new(429))
        .expect(4)
        .mount(&server)
        .await;
    let err = wikipedia(&server).await.summary("Apple").await.unwrap_err();
    assert_eq!(
        err,
        TextError::Unavailable {
            company: "Apple".into(),
            status: 429
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn empty_extract_and_bad_json() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Blank"))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary("standard", "  ", "u")))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Garbled"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    let w = wikipedia(&server).await;
    assert_eq!(
        w.summary("Blank").await.unwrap_err(),
        TextError::Empty("Blank".into())
    );
    assert!(matches!(
        w.summary("Garbled").await.unwrap_err(),
        TextError::Http { .. }
    ));
}

// ---- Comprehend on recorded responses --------------------------------------------

/// Headers that differ on every request (signature, time, ids); the rest, and the
/// body, must match the recording.
const VARYING_HEADERS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-user-agent",
    "user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "content-length",
];

fn comprehend_event(target: &str, request: serde_json::Value, response: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri("https://comprehend.us-east-1.amazonaws.com/")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(response))
            .unwrap(),
    )
}

fn comprehend(replay: &StaticReplayClient) -> Analyzer {
    let conf = aws_sdk_comprehend::Config::builder()
        .behavior_version(aws_sdk_comprehend::config::BehaviorVersion::latest())
        .region(aws_sdk_comprehend::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .http_client(replay.clone())
        .build();
    Analyzer::Comprehend(aws_sdk_comprehend::Client::from_conf(conf))
}

#[tokio::test]
async fn one_text_uses_detect_sentiment_and_keeps_all_four_scores() {
    let replay = StaticReplayClient::new(vec![comprehend_event(
        "Comprehend_20171127.DetectSentiment",
        serde_json::json!({"Text": "Netflix is great.", "LanguageCode": "en"}),
        r#"{"Sentiment":"POSITIVE","SentimentScore":{"Positive":0.91,"Negative":0.01,"Neutral":0.07,"Mixed":0.01}}"#,
    )]);
    let results = comprehend(&replay)
        .analyze_all(&["Netflix is great."])
        .await;
    let a = results[0].clone().unwrap();
    assert_eq!(a.sentiment, Sentiment::Positive);
    assert!((a.scores.positive - 0.91).abs() < 1e-6);
    assert!((a.scores.mixed - 0.01).abs() < 1e-6);
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn batch_error_for_one_text_fails_only_that_text() {
    let texts: Vec<String> = (0..10).map(|i| format!("Company {i} is fine.")).collect();
    let results: Vec<serde_json::Value> = (0..10)
        .filter(|i| *i != 3)
        .map(|i| serde_json::json!({"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7, "Mixed": 0.1}}))
        .collect();
    let response = serde_json::json!({
        "ResultList": results,
        "ErrorList": [{"Index": 3, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "Unable to process"}]
    });
    let replay = StaticReplayClient::new(vec![comprehend_event(
        "Comprehend_20171127.BatchDetectSentiment",
        serde_json::json!({"TextList": texts, "LanguageCode": "en"}),
        &response.to_string(),
    )]);
    let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let out = comprehend(&replay).analyze_all(&inputs).await;
    assert_eq!(out.len(), 10);
    for (i, r) in out.iter().enumerate() {
        if i == 3 {
            assert_eq!(
                r.clone().unwrap_err().to_string(),
                "Comprehend: INTERNAL_SERVER_ERROR: Unable to process"
            );
        } else {
            assert_eq!(r.clone().unwrap().sentiment, Sentiment::Neutral, "text {i}");
        }
    }
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn oversized_text_is_cut_to_what_comprehend_analyzes() {
    let long = "é".repeat(3_000); // 6,000 bytes
    let cut = "é".repeat(COMPREHEND_MAX_BYTES / 2);
    let replay = StaticReplayClient::new(vec![comprehend_event(
        "Comprehend_20171127.DetectSentiment",
        serde_json::json!({"Text": cut, "LanguageCode": "en"}),
        r#"{"Sentiment":"NEUTRAL","SentimentScore":{"Positive":0.0,"Negative":0.0,"Neutral":1.0,"Mixed":0.0}}"#,
    )]);
    let out = comprehend(&replay).analyze_all(&[long.as_str()]).await;
    assert_eq!(out[0].clone().unwrap().sentiment, Sentiment::Neutral);
    // The request body holds exactly 5,000 bytes of text, cut on a character boundary.
    replay.assert_requests_match(VARYING_HEADERS);
}
