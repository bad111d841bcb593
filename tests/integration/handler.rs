//! The sentiment handler on one batch, as Lambda calls it: results in S3 on moto,
//! Comprehend on a recorded AWS response (moto has no BatchDetectSentiment).

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use fang_sentiment::analyze::Analyzer;
use fang_sentiment::text::TextSource;
use fang_sentiment::{Deps, SqsEvent, SqsRecord, handle_batch};
use fang_shared::{CompanyMessage, RunId, keys};

use crate::support::{s3, unique};

/// A Comprehend client that answers each call with the next of `answers` (JSON), and
/// the replay that counts the calls.
fn comprehend(answers: &[String]) -> (aws_sdk_comprehend::Client, StaticReplayClient) {
    let replay = StaticReplayClient::new(
        answers
            .iter()
            .map(|body| {
                ReplayEvent::new(
                    http::Request::builder()
                        .uri("https://comprehend.us-east-1.amazonaws.com/")
                        .body(SdkBody::empty())
                        .unwrap(),
                    http::Response::builder()
                        .status(200)
                        .body(SdkBody::from(body.clone()))
                        .unwrap(),
                )
            })
            .collect(),
    );
    let client = aws_sdk_comprehend::Client::from_conf(
        aws_sdk_comprehend::Config::builder()
            .behavior_version(aws_sdk_comprehend::config::BehaviorVersion::latest())
            .region(aws_sdk_comprehend::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_comprehend::config::Credentials::new(
                "t", "t", None, None, "tests",
            ))
            .http_client(replay.clone())
            .build(),
    );
    (client, replay)
}

#[tokio::test]
async fn one_bad_message_and_one_analyzer_error_fail_alone() {
    let bucket = unique("fang-t-handler");
    s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let run_id = RunId::new("20261130T060000Z-0000abcd").unwrap();
    let companies: Vec<String> = (0..9).map(|i| format!("Company {i}")).collect();
    let mut records: Vec<SqsRecord> = companies
        .iter()
        .enumerate()
        .map(|(i, c)| SqsRecord {
            message_id: format!("m{i}"),
            body: CompanyMessage {
                company: c.clone(),
                run_id: run_id.clone(),
                wikipedia: None,
            }
            .to_body(),
        })
        .collect();
    records.insert(
        4,
        SqsRecord {
            message_id: "malformed".into(),
            body: "Apple".into(),
        },
    );

    // Comprehend scores the nine readable texts in one call, failing the third.
    let results: Vec<serde_json::Value> = (0..9)
        .filter(|i| *i != 2)
        .map(|i| serde_json::json!({"Index": i, "Sentiment": "POSITIVE", "SentimentScore": {"Positive": 0.9, "Negative": 0.02, "Neutral": 0.06, "Mixed": 0.02}}))
        .collect();
    let response = serde_json::json!({
        "ResultList": results,
        "ErrorList": [{"Index": 2, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "Unable to process"}]
    });
    let (comprehend, replay) = comprehend(&[response.to_string()]);
    let deps = Deps {
        text: TextSource::Fixtures,
        analyzer: Analyzer::Comprehend(comprehend),
        s3: s3(),
        bucket: bucket.clone(),
        write_summary: true,
        cache: None,
    };
    // A deadline with no time for a retry: the failed text goes back to the queue.
    let deadline = std::time::Instant::now() + fang_sentiment::analyze::DEADLINE_MARGIN;
    let outcome = handle_batch(
        &deps,
        &SqsEvent { records },
        time::OffsetDateTime::now_utc(),
        deadline,
    )
    .await;

    let mut failed: Vec<&str> = outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    failed.sort();
    assert_eq!(failed, ["m2", "malformed"], "{outcome:#?}");
    assert_eq!(outcome.succeeded.len(), 8);
    // Comprehend's units: nine texts sent, each under 300 characters, so 3 units each.
    assert_eq!(outcome.metrics.texts_analyzed, 9);
    assert_eq!(outcome.metrics.comprehend_units, 27);
    let reasons: Vec<&str> = outcome.failed.iter().map(|f| f.reason.as_str()).collect();
    assert!(
        reasons.contains(&"Comprehend: INTERNAL_SERVER_ERROR: Unable to process"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("message body is not a company message")),
        "{reasons:?}"
    );

    let stored = fang_sentiment::store::list_keys(&s3(), &bucket, &keys::run_prefix(&run_id))
        .await
        .unwrap();
    assert_eq!(stored.iter().filter(|k| keys::is_result_key(k)).count(), 8);
    // The producer's manifest is absent, so no summary: the handler cannot know the run.
    assert!(!stored.iter().any(|k| k.ends_with("summary.csv")));
    // The analyzer was asked once, with the nine readable texts.
    assert_eq!(replay.actual_requests().count(), 1);
}

/// A company whose page cannot exist is a `no_text` result with its reason, and its
/// message is not retried; a transient error goes back to the queue; the text a page
/// has is analyzed, with the characters sent recorded. Wikipedia on wiremock.
#[tokio::test]
async fn permanent_text_errors_are_results_and_transient_ones_are_retried() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let summary = |kind: &str, extract: &str| {
        serde_json::json!({"type": kind, "title": "x", "extract": extract,
            "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/X"}}})
    };
    Mock::given(path("/page/summary/Amazon"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(summary("disambiguation", "Amazon most often refers to:")),
        )
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Nonexistent_Corp"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Flaky_Corp"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    // The env file maps "Apple" to the company's page, not the fruit's.
    let apple_text = "Apple Inc. is an American multinational technology company. It is known for its excellent products.";
    Mock::given(path("/page/summary/Apple_Inc."))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary("standard", apple_text)))
        .expect(1)
        .mount(&server)
        .await;

    let bucket = unique("fang-t-notext");
    s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let run_id = RunId::new("20261130T060000Z-0000beef").unwrap();
    let message = |id: &str, company: &str, wikipedia: Option<&str>| SqsRecord {
        message_id: id.into(),
        body: CompanyMessage {
            company: company.into(),
            run_id: run_id.clone(),
            wikipedia: wikipedia.map(str::to_owned),
        }
        .to_body(),
    };
    let records = vec![
        message("m-amazon", "Amazon", None),
        message("m-none", "Nonexistent Corp", None),
        message("m-flaky", "Flaky Corp", None),
        message("m-apple", "Apple", Some("Apple Inc.")),
    ];
    let deps = wikipedia_vader(&server.uri(), &bucket);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let outcome = handle_batch(
        &deps,
        &SqsEvent { records },
        time::OffsetDateTime::now_utc(),
        deadline,
    )
    .await;
    let retried: Vec<&str> = outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(retried, ["m-flaky"], "{outcome:#?}");

    let records = fang_sentiment::store::load_records(&s3(), &bucket, &run_id)
        .await
        .unwrap();
    let by: std::collections::HashMap<&str, &fang_shared::SentimentRecord> =
        records.iter().map(|r| (r.company.as_str(), r)).collect();
    assert_eq!(records.len(), 3, "{records:#?}");
    let amazon = by["Amazon"];
    assert_eq!(amazon.status, fang_shared::ResultStatus::NoText);
    assert_eq!(amazon.sentiment, None);
    assert!(
        amazon
            .reason
            .as_deref()
            .unwrap()
            .contains("disambiguation page; set `wikipedia:`"),
        "{amazon:?}"
    );
    assert_eq!(
        by["Nonexistent Corp"].status,
        fang_shared::ResultStatus::NoText
    );
    let apple = by["Apple"];
    assert_eq!(apple.status, fang_shared::ResultStatus::Ok);
    assert!(apple.sentiment.is_some());
    // The embedded analyzer reads the whole text (Comprehend's cut is tested beside it).
    assert_eq!(apple.chars_analyzed, apple_text.chars().count());
    // The batch's metrics: 3 results, 1 text analyzed, 4 companies' first requests
    // and Flaky Corp's retries, no Comprehend units with the embedded analyzer.
    let m = outcome.metrics;
    assert_eq!(m.results_written, 3);
    assert_eq!(m.texts_analyzed, 1);
    assert_eq!(m.chars_analyzed, apple_text.chars().count() as u64);
    assert_eq!(m.comprehend_units, 0);
    assert_eq!(m.wikipedia_requests, 3 + 4, "Flaky Corp is tried 4 times");
    assert!(m.result_bytes > 200, "{m:?}");
    assert_eq!(apple.source_url, "https://en.wikipedia.org/wiki/X");
    // The record says which page was read: the env file's, not the name's.
    assert_eq!(apple.page.as_deref(), Some("Apple Inc."));
    assert_eq!(amazon.page.as_deref(), Some("Amazon"));
}

/// Texts from a Wikipedia stand-in at `base` (retries 5 ms apart), the embedded
/// analyzer, results in `bucket`, no cache.
fn wikipedia_vader(base: &str, bucket: &str) -> Deps {
    Deps {
        text: TextSource::Wikipedia(
            fang_sentiment::text::Wikipedia::new(base)
                .unwrap()
                .with_backoff(std::time::Duration::from_millis(5)),
        ),
        analyzer: Analyzer::Vader,
        s3: s3(),
        bucket: bucket.to_owned(),
        write_summary: false,
        cache: None,
    }
}

/// A canary's message that fails goes back to the queue like any other, and leaves a
/// note of why under the canary run, where the deploy waiting on it reads it at once;
/// a scheduled run's failure leaves none.
#[tokio::test]
async fn a_canarys_failure_leaves_a_note_for_the_deploy_waiting_on_it() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(path("/page/summary/Flaky_Corp"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let bucket = unique("fang-t-note");
    s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let canary = RunId::canary(time::macros::datetime!(2026-12-01 07:00 UTC), 7);
    let scheduled = RunId::new("20261201T070000Z-00000007").unwrap();
    let message = |id: &str, run_id: &RunId| SqsRecord {
        message_id: id.into(),
        body: CompanyMessage {
            company: "Flaky Corp".into(),
            run_id: run_id.clone(),
            wikipedia: None,
        }
        .to_body(),
    };
    let deps = wikipedia_vader(&server.uri(), &bucket);
    let event = SqsEvent {
        records: vec![
            message("m-canary", &canary),
            message("m-scheduled", &scheduled),
        ],
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let outcome = handle_batch(&deps, &event, time::OffsetDateTime::now_utc(), deadline).await;
    assert_eq!(
        outcome.response.batch_item_failures.len(),
        2,
        "both retried"
    );
    let listed = fang_sentiment::store::list_keys(&s3(), &bucket, "")
        .await
        .unwrap();
    let note_key = keys::failure_key(&canary, "Flaky Corp");
    assert_eq!(listed, vec![note_key.clone()], "one note, the canary's");
    let notes = fang_sentiment::store::get_failure_notes(&s3(), &bucket, &listed)
        .await
        .unwrap();
    assert_eq!(notes[0].company, "Flaky Corp");
    assert!(notes[0].reason.contains("503"), "{:?}", notes[0]);
    // Not a result: the canary's results and its summary do not count it.
    assert!(
        fang_sentiment::store::load_records(&s3(), &bucket, &canary)
            .await
            .unwrap()
            .is_empty()
    );
}

/// One event, one run: a repeated delivery (another invocation) finds the claim and
/// queues nothing; a retry of the same invocation queues again, since its first
/// attempt may have stopped halfway (results are idempotent).
#[tokio::test]
async fn an_event_delivered_twice_queues_each_company_once() {
    use aws_sdk_dynamodb::types::AttributeValue;

    let stack = unique("fang-claim");
    let table = format!("{stack}-companies");
    crate::support::create_companies_table(&table).await;
    for name in ["Amazon", "Apple", "Netflix"] {
        crate::support::dynamodb()
            .put_item()
            .table_name(&table)
            .item("company", AttributeValue::S(name.into()))
            .send()
            .await
            .unwrap();
    }
    let bucket = unique("fang-claim-results");
    s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let sqs = crate::support::moto_client!(aws_sdk_sqs);
    let queue_url = sqs
        .create_queue()
        .queue_name(&stack)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let target = fang_producer::Target {
        table,
        queue_url: queue_url.clone(),
        bucket,
    };
    let event_time = time::macros::datetime!(2026-11-30 06:00:00 UTC);
    let run_id = RunId::for_event(event_time, "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
    let produce = |invocation: &'static str| {
        let (target, run_id) = (target.clone(), run_id.clone());
        async move {
            fang_producer::produce(
                &crate::support::dynamodb(),
                &crate::support::moto_client!(aws_sdk_sqs),
                &s3(),
                &target,
                fang_producer::Run {
                    id: &run_id,
                    started_at: event_time,
                    invocation,
                    only: None,
                },
            )
            .await
            .unwrap()
        }
    };
    let first = produce("request-1").await;
    assert_eq!((first.queued, first.already_claimed), (3, false));
    // EventBridge delivered the event again: another invocation, nothing queued.
    let repeat = produce("request-2").await;
    assert_eq!((repeat.queued, repeat.already_claimed), (0, true));
    let queued = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        queued.attributes().unwrap()
            [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages],
        "3"
    );
    // Lambda retrying request-1 (same request id) may queue again: it holds the run.
    let retry = produce("request-1").await;
    assert_eq!((retry.queued, retry.already_claimed), (3, false));
}

/// The analysis cache and conditional fetches over four runs of three companies, two
/// of whose pages share a text: Wikipedia on wiremock (ETags and 304s), the cache on
/// moto's S3, Comprehend on recorded answers whose calls are counted.
#[tokio::test]
async fn an_unchanged_text_is_neither_downloaded_nor_scored_again() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    // Each page as Wikimedia serves it: its text and validator now, and 304 to a
    // request whose If-None-Match names that validator. A Corp changes after run 2.
    type Page = std::sync::Arc<std::sync::Mutex<(String, String)>>;
    let serve = |page: Page| {
        move |req: &wiremock::Request| {
            let (text, etag) = page.lock().unwrap().clone();
            if req
                .headers
                .get("if-none-match")
                .and_then(|v| v.to_str().ok())
                == Some(&etag)
            {
                return ResponseTemplate::new(304).insert_header("ETag", etag.as_str());
            }
            ResponseTemplate::new(200)
                .insert_header("ETag", etag.as_str())
                .set_body_json(
                    serde_json::json!({"type": "standard", "title": "x", "extract": text,
                    "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/X"}}}),
                )
        }
    };
    let a_corp: Page = std::sync::Arc::new(std::sync::Mutex::new((
        "A Corp makes good things.".into(),
        "W/\"101\"".into(),
    )));
    Mock::given(path("/page/summary/A_Corp"))
        .respond_with(serve(a_corp.clone()))
        .mount(&server)
        .await;
    for (name, etag) in [("Twin_One", "W/\"201\""), ("Twin_Two", "W/\"301\"")] {
        let twin: Page = std::sync::Arc::new(std::sync::Mutex::new((
            "The twins share one text.".into(),
            etag.into(),
        )));
        Mock::given(path(format!("/page/summary/{name}")))
            .respond_with(serve(twin))
            .mount(&server)
            .await;
    }

    let scores =
        serde_json::json!({"Positive": 0.8, "Negative": 0.1, "Neutral": 0.05, "Mixed": 0.05});
    let batch = |n: usize| {
        let list: Vec<_> = (0..n)
            .map(|i| serde_json::json!({"Index": i, "Sentiment": "POSITIVE", "SentimentScore": scores}))
            .collect();
        serde_json::json!({"ResultList": list, "ErrorList": []}).to_string()
    };
    let single = serde_json::json!({"Sentiment": "NEUTRAL", "SentimentScore": scores}).to_string();
    // Run 1: two distinct texts, one call. Run 2: none. Run 3: A Corp's new text, one
    // call. Run 4, past max_age: both texts again, one call.
    let answers = [batch(2), single, batch(2), batch(2)];
    let (comprehend, replay) = comprehend(&answers);
    let bucket = unique("fang-t-cache");
    s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let deps = Deps {
        text: TextSource::Wikipedia(fang_sentiment::text::Wikipedia::new(&server.uri()).unwrap()),
        analyzer: Analyzer::Comprehend(comprehend),
        s3: s3(),
        bucket: bucket.clone(),
        write_summary: false,
        cache: Some(fang_sentiment::cache::Cache {
            max_age: time::Duration::days(7),
        }),
    };
    let day0 = time::macros::datetime!(2026-11-30 06:00 UTC);
    let run = |n: u32, now: time::OffsetDateTime| {
        let (deps, bucket) = (&deps, &bucket);
        async move {
            // Run 5 is a deploy's canary.
            let id = format!("20261130T06000{n}Z-0000cafe");
            let run_id = RunId::new(if n == 5 { format!("canary-{id}") } else { id }).unwrap();
            let records = ["A Corp", "Twin One", "Twin Two"]
                .iter()
                .map(|c| SqsRecord {
                    message_id: format!("m-{c}"),
                    body: CompanyMessage {
                        company: (*c).into(),
                        run_id: run_id.clone(),
                        wikipedia: None,
                    }
                    .to_body(),
                })
                .collect();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let outcome = handle_batch(deps, &SqsEvent { records }, now, deadline).await;
            assert!(outcome.failed.is_empty(), "{outcome:#?}");
            let results = fang_sentiment::store::load_records(&s3(), bucket, &run_id)
                .await
                .unwrap();
            (outcome.metrics, results)
        }
    };

    // 1. Nothing kept: every page downloaded, the shared text scored once.
    let (m, results) = run(1, day0).await;
    assert_eq!((m.wikipedia_requests, m.wikipedia_not_modified), (3, 0));
    assert_eq!((m.texts_analyzed, m.cache_hits, m.cache_misses), (2, 1, 2));
    assert_eq!(replay.actual_requests().count(), 1);
    assert!(results.iter().all(|r| r.cached.is_none()), "{results:#?}");

    // 2. The next day, nothing changed: three 304s, no text downloaded, nothing scored,
    // every result marked with the time of its analysis.
    let (m, results) = run(2, day0 + time::Duration::days(1)).await;
    assert_eq!((m.wikipedia_requests, m.wikipedia_not_modified), (3, 3));
    assert_eq!(
        (m.texts_analyzed, m.comprehend_units, m.cache_hits),
        (0, 0, 3)
    );
    assert_eq!(replay.actual_requests().count(), 1, "no Comprehend call");
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r.cached.as_deref(), Some("2026-11-30T06:00:00Z"), "{r:#?}");
        assert!(!r.excerpt.is_empty(), "the kept text is the excerpt");
        assert!(r.scores.is_some());
    }

    // 3. A Corp's page changed: its validator gets the new text, which alone is scored.
    *a_corp.lock().unwrap() = (
        "A Corp was fined for bad things.".into(),
        "W/\"102\"".into(),
    );
    let (m, results) = run(3, day0 + time::Duration::days(2)).await;
    assert_eq!((m.wikipedia_not_modified, m.texts_analyzed), (2, 1));
    assert_eq!(replay.actual_requests().count(), 2);
    let a = results.iter().find(|r| r.company == "A Corp").unwrap();
    assert!(
        a.cached.is_none() && a.excerpt.starts_with("A Corp was fined"),
        "{a:#?}"
    );

    // 4. Past max_age every text is scored again, though unchanged.
    let (m, _) = run(4, day0 + time::Duration::days(10)).await;
    assert_eq!((m.texts_analyzed, m.cache_hits, m.cache_misses), (2, 1, 2));
    assert_eq!(replay.actual_requests().count(), 3);

    // 5. A canary proves the analyzer too: its texts are sent, cached or not.
    let (m, results) = run(5, day0 + time::Duration::days(10)).await;
    assert_eq!((m.texts_analyzed, m.cache_hits), (2, 1));
    assert!(results.iter().all(|r| r.cached.is_none()), "{results:#?}");
    assert_eq!(replay.actual_requests().count(), 4);
}
