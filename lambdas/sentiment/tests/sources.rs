//! The sentiment function's outside world: Wikipedia through a local HTTP server
//! (wiremock), Amazon Comprehend through recorded AWS responses (the SDK's replay
//! client), since moto's Comprehend gives one canned answer and lacks the batch API.

// Helpers here are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use fang_sentiment::analyze::{Analyzer, COMPREHEND_ANALYZED_CHARS};
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

/// The REST API's answer to a redirect page: 302 to the target's summary.
async fn redirect(server: &MockServer, from: &str, to: &str) {
    Mock::given(path(format!("/page/summary/{from}")))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("/page/summary/{to}")),
        )
        .mount(server)
        .await;
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
    comprehend_answer(target, request, 200, response)
}

fn comprehend_answer(
    target: &str,
    request: serde_json::Value,
    status: u16,
    response: &str,
) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri("https://comprehend.us-east-1.amazonaws.com/")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(SdkBody::from(request.to_string()))
            .unwrap(),
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(response))
            .unwrap(),
    )
}

/// A minute from now: time for every retry.
fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// So near that no retry fits before it (only the first call is made).
fn now_deadline() -> Instant {
    Instant::now() + fang_sentiment::analyze::DEADLINE_MARGIN
}

/// The text of every document sent, across requests.
fn sent_texts(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .flat_map(|r| {
            let body: serde_json::Value =
                serde_json::from_slice(r.body().bytes().unwrap_or_default()).unwrap();
            match body.get("TextList") {
                Some(list) => list
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
                None => vec![body["Text"].as_str().unwrap().to_owned()],
            }
        })
        .collect()
}

fn comprehend(replay: &StaticReplayClient) -> Analyzer {
    let conf = aws_sdk_comprehend::Config::builder()
        .behavior_version(aws_sdk_comprehend::config::BehaviorVersion::latest())
        .region(aws_sdk_comprehend::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        // The SDK's own retries off: what is tested is fangops's, per document.
        .retry_config(aws_sdk_comprehend::config::retry::RetryConfig::disabled())
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
        .analyze_all(&["Netflix is great."], later())
        .await;
    let a = results[0].clone().unwrap();
    assert_eq!(a.sentiment, Sentiment::Positive);
    assert!((a.scores.positive - 0.91).abs() < 1e-6);
    assert!((a.scores.mixed - 0.01).abs() < 1e-6);
    replay.assert_requests_match(VARYING_HEADERS);
}

fn neutral(i: usize) -> serde_json::Value {
    serde_json::json!({"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7, "Mixed": 0.1}})
}

#[tokio::test]
async fn a_document_error_without_time_to_retry_fails_only_that_text() {
    let texts: Vec<String> = (0..10).map(|i| format!("Company {i} is fine.")).collect();
    let results: Vec<serde_json::Value> = (0..10).filter(|i| *i != 3).map(neutral).collect();
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
    let out = comprehend(&replay)
        .analyze_all(&inputs, now_deadline())
        .await;
    assert_eq!(out.len(), 10);
    for (i, r) in out.iter().enumerate() {
        if i == 3 {
            let e = r.clone().unwrap_err();
            assert_eq!(
                e.to_string(),
                "Comprehend: INTERNAL_SERVER_ERROR: Unable to process"
            );
            // Transient: the handler sends it back to the queue.
            assert!(e.is_transient());
        } else {
            assert_eq!(r.clone().unwrap().sentiment, Sentiment::Neutral, "text {i}");
        }
    }
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn a_failed_document_is_sent_again_alone_while_there_is_time() {
    let texts: Vec<String> = (0..4).map(|i| format!("Company {i} is fine.")).collect();
    let first = serde_json::json!({
        "ResultList": [neutral(0), neutral(1), neutral(3)],
        "ErrorList": [{"Index": 2, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "Unable to process"}]
    });
    let replay = StaticReplayClient::new(vec![
        comprehend_event(
            "Comprehend_20171127.BatchDetectSentiment",
            serde_json::json!({"TextList": texts, "LanguageCode": "en"}),
            &first.to_string(),
        ),
        comprehend_event(
            "Comprehend_20171127.DetectSentiment",
            serde_json::json!({"Text": texts[2], "LanguageCode": "en"}),
            r#"{"Sentiment":"POSITIVE","SentimentScore":{"Positive":0.8,"Negative":0.0,"Neutral":0.2,"Mixed":0.0}}"#,
        ),
    ]);
    let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let out = comprehend(&replay).analyze_all(&inputs, later()).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(out[2].clone().unwrap().sentiment, Sentiment::Positive);
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn a_throttled_batch_is_retried_with_backoff_and_then_succeeds() {
    let texts: Vec<String> = (0..3).map(|i| format!("Company {i} is fine.")).collect();
    let request = serde_json::json!({"TextList": texts, "LanguageCode": "en"});
    let ok =
        serde_json::json!({"ResultList": [neutral(0), neutral(1), neutral(2)], "ErrorList": []});
    let replay = StaticReplayClient::new(vec![
        comprehend_answer(
            "Comprehend_20171127.BatchDetectSentiment",
            request.clone(),
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        comprehend_event(
            "Comprehend_20171127.BatchDetectSentiment",
            request,
            &ok.to_string(),
        ),
    ]);
    let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let out = comprehend(&replay).analyze_all(&inputs, later()).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    // It waited before trying again (the first pause is 200 ms, jittered ±50%).
    assert!(started.elapsed() >= Duration::from_millis(100));
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn a_throttled_batch_without_time_left_fails_transiently() {
    let texts = ["A is fine.", "B is fine."];
    let replay = StaticReplayClient::new(vec![comprehend_answer(
        "Comprehend_20171127.BatchDetectSentiment",
        serde_json::json!({"TextList": texts, "LanguageCode": "en"}),
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    )]);
    let out = comprehend(&replay)
        .analyze_all(&texts, now_deadline())
        .await;
    for r in out {
        let e = r.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(e.to_string().contains("ThrottlingException"), "{e}");
    }
    replay.assert_requests_match(VARYING_HEADERS);
}

#[tokio::test]
async fn no_request_sends_more_than_500_characters() {
    let long = "é".repeat(3_000); // 6,000 bytes, one token: a hard cut
    let sentences = "The company reported stable revenue this year. ".repeat(30);
    let replay = StaticReplayClient::new(vec![comprehend_event(
        "Comprehend_20171127.BatchDetectSentiment",
        serde_json::json!({"TextList": [
            "é".repeat(COMPREHEND_ANALYZED_CHARS),
            fang_sentiment::analyze::cut_for_comprehend(&sentences),
        ], "LanguageCode": "en"}),
        &serde_json::json!({"ResultList": [neutral(0), neutral(1)], "ErrorList": []}).to_string(),
    )]);
    let out = comprehend(&replay)
        .analyze_all(&[long.as_str(), sentences.as_str()], later())
        .await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    replay.assert_requests_match(VARYING_HEADERS);
    let sent = sent_texts(&replay);
    assert_eq!(sent.len(), 2);
    for t in &sent {
        assert!(
            t.chars().count() <= COMPREHEND_ANALYZED_CHARS,
            "{}",
            t.len()
        );
    }
    // Cut at the end of a sentence.
    assert!(sent[1].ends_with("this year."), "{}", sent[1]);
}

#[tokio::test]
async fn a_page_slower_than_the_time_left_gives_up_in_time_and_is_transient() {
    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Slow_Corp"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(summary("standard", "Slow.", "https://x"))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let w = wikipedia(&server).await;
    let started = Instant::now();
    // 3 s left, 2 s of them kept free: the request may take about one second.
    let deadline = started + Duration::from_secs(3);
    let err = w
        .summary_until("Slow Corp", Some(deadline))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_transient(), "{err}");
    // No time at all: not even a request.
    let err = w
        .summary_until("Slow Corp", Some(Instant::now()))
        .await
        .unwrap_err();
    assert_eq!(err, TextError::OutOfTime("Slow Corp".into()));
}

#[tokio::test]
async fn a_redirect_is_followed_and_reported_with_the_page_it_lands_on() {
    let server = MockServer::start().await;
    // The REST API answers a redirect page with 302 to the target's summary.
    redirect(&server, "Facebook,_Inc.", "Meta_Platforms").await;
    Mock::given(path("/page/summary/Meta_Platforms"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "standard",
            "title": "Meta Platforms",
            "titles": {"canonical": "Meta_Platforms", "normalized": "Meta Platforms"},
            "description": "American technology company",
            "extract": "Meta Platforms, Inc. is an American technology company.",
            "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Meta_Platforms"}}
        })))
        .mount(&server)
        .await;
    let page = wikipedia(&server)
        .await
        .lookup("Facebook, Inc.", None)
        .await
        .unwrap();
    assert_eq!(page.title, "Meta Platforms");
    assert!(page.redirected());
    assert_eq!(
        page.description.as_deref(),
        Some("American technology company")
    );
    // Underscores and a lowercase first letter are not a redirect.
    let same = fang_sentiment::text::Page {
        requested: "meta_Platforms".into(),
        ..page
    };
    assert!(!same.redirected());
}

/// A redirect page's validator: the 302 is followed with `If-None-Match` kept (only
/// credentials are dropped on a redirect), so an unchanged target still answers 304
/// and nothing is downloaded; a changed one answers its text and new ETag.
#[tokio::test]
async fn a_conditional_fetch_through_a_redirect_still_gets_its_304() {
    use fang_sentiment::text::Fetched;
    let server = MockServer::start().await;
    redirect(&server, "Facebook,_Inc.", "Meta_Platforms").await;
    Mock::given(path("/page/summary/Meta_Platforms"))
        .and(header("if-none-match", "\"1234/abcd\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Meta_Platforms"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"1235/bcde\"")
                .set_body_json(summary(
                    "standard",
                    "Meta Platforms, Inc. is an American technology company.",
                    "https://en.wikipedia.org/wiki/Meta_Platforms",
                )),
        )
        .mount(&server)
        .await;
    let w = wikipedia(&server).await;
    let requests = std::sync::atomic::AtomicU64::new(0);
    let unchanged = w
        .summary_if_changed("Facebook, Inc.", None, &requests, Some("\"1234/abcd\""))
        .await
        .unwrap();
    assert!(matches!(unchanged, Fetched::NotModified), "{unchanged:?}");
    let changed = w
        .summary_if_changed("Facebook, Inc.", None, &requests, Some("\"1233/old\""))
        .await
        .unwrap();
    let Fetched::Text { etag, .. } = changed else {
        panic!("a changed page has a text: {changed:?}")
    };
    assert_eq!(etag.as_deref(), Some("\"1235/bcde\""));
}

#[tokio::test]
async fn comprehend_unavailable_is_transient_by_its_status() {
    // Comprehend's common errors: ServiceUnavailable (503), InternalFailure (500).
    for (status, code) in [(503, "ServiceUnavailable"), (500, "InternalFailure")] {
        let replay = StaticReplayClient::new(vec![comprehend_answer(
            "Comprehend_20171127.DetectSentiment",
            serde_json::json!({"Text": "A is fine.", "LanguageCode": "en"}),
            status,
            &format!(r#"{{"__type":"{code}","message":"try later"}}"#),
        )]);
        let out = comprehend(&replay)
            .analyze_all(&["A is fine."], now_deadline())
            .await;
        let e = out[0].clone().unwrap_err();
        assert!(e.is_transient(), "{status}: {e}");
    }
}
