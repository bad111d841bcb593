//! The AWS path of a verification on recorded responses: what moto cannot show (it runs
//! no Lambda code, evaluates no alarm and keeps no alarm history).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use fang_shared::{AnalyzerKind, ResultStatus, RunId, Sentiment, SentimentRecord, SentimentScores};

use super::*;
use crate::aws::AwsContext;
use crate::testing::replay::{client, replay, replay_with_headers};

const STACK: &str = "fang-dev";

fn run_id() -> RunId {
    RunId::new("canary-20261201T070000Z-00000001").unwrap()
}

fn result(company: &str) -> SentimentRecord {
    SentimentRecord {
        company: company.into(),
        run_id: run_id(),
        status: ResultStatus::Ok,
        reason: None,
        page: Some(company.into()),
        source_url: format!("https://en.wikipedia.org/wiki/{company}"),
        excerpt: "An American company.".into(),
        sentiment: Some(Sentiment::Positive),
        scores: Some(SentimentScores {
            positive: 0.91,
            negative: 0.01,
            neutral: 0.07,
            mixed: 0.01,
        }),
        analyzer: AnalyzerKind::Comprehend,
        chars_analyzed: 20,
        analyzed_at: "2026-12-01T07:00:03Z".into(),
        cached: None,
    }
}

#[test]
fn canary_results_must_match_the_schema_and_the_stack() {
    let canaries = vec!["Apple".to_owned()];
    let ok = check_records(
        &[result("Apple")],
        &canaries,
        &[],
        &run_id(),
        Some("comprehend"),
    )
    .unwrap();
    assert_eq!(ok, "1 result as the schema says: Apple positive (0.91)");

    let err = check_records(&[], &canaries, &[], &run_id(), None).unwrap_err();
    assert!(err.contains("no result for Apple"), "{err}");

    let no_text = SentimentRecord {
        status: ResultStatus::NoText,
        reason: Some("\"Apple\" is a disambiguation page".into()),
        sentiment: None,
        scores: None,
        ..result("Apple")
    };
    let err = check_records(
        std::slice::from_ref(&no_text),
        &canaries,
        &[],
        &run_id(),
        None,
    )
    .unwrap_err();
    assert!(err.contains("verify.companies"), "{err}");
    // A company run to report on (a preview's added one) may have no page: its result
    // says so, and the verification stands on the canaries.
    let both = vec!["Apple".to_owned(), "Amazon".to_owned()];
    let amazon = SentimentRecord {
        company: "Amazon".into(),
        ..no_text.clone()
    };
    let ok = check_records(
        &[result("Apple"), amazon],
        &both,
        &both[1..],
        &run_id(),
        None,
    )
    .unwrap();
    assert_eq!(
        ok,
        "2 results as the schema says: Apple positive (0.91), Amazon without text"
    );

    let mut bad = result("Apple");
    bad.scores.as_mut().unwrap().positive = 1.5;
    let err = check_records(&[bad], &canaries, &[], &run_id(), None).unwrap_err();
    assert!(err.contains("outside 0..1"), "{err}");

    let other_run = SentimentRecord {
        run_id: RunId::new("20261201T070000Z-00000001").unwrap(),
        ..result("Apple")
    };
    let err = check_records(&[other_run], &canaries, &[], &run_id(), None).unwrap_err();
    assert!(
        err.contains("not canary-20261201T070000Z-00000001"),
        "{err}"
    );

    // The stack says comprehend; a vader result means the deploy did not take.
    let vader = SentimentRecord {
        analyzer: AnalyzerKind::Vader,
        ..result("Apple")
    };
    let err = check_records(&[vader], &canaries, &[], &run_id(), Some("comprehend")).unwrap_err();
    assert!(err.contains("analyzed by vader"), "{err}");
}

// --- alarms ---------------------------------------------------------------------------

const CW_NS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

fn alarms_xml(alarms: &[(&str, &str)]) -> String {
    let members: String = alarms
        .iter()
        .map(|(name, state)| {
            format!(
                "<member><AlarmName>{STACK}-{name}</AlarmName><AlarmDescription>What it means. [managed by fangops for stack {STACK}]</AlarmDescription><StateValue>{state}</StateValue></member>"
            )
        })
        .collect();
    format!(
        r#"<DescribeAlarmsResponse xmlns="{CW_NS}"><DescribeAlarmsResult><MetricAlarms>{members}</MetricAlarms><CompositeAlarms/></DescribeAlarmsResult><ResponseMetadata><RequestId>1a2b</RequestId></ResponseMetadata></DescribeAlarmsResponse>"#
    )
}

/// DescribeAlarmHistory's answer, HistoryData as the API reference's AlarmHistoryItem
/// and the CLI's example show it: JSON in a string (XML-escaped here).
fn history_xml(items: &[(&str, &str, &str)]) -> String {
    let members: String = items
        .iter()
        .map(|(name, old, new)| {
            let data = serde_json::json!({
                "version": "1.0",
                "oldState": {"stateValue": old, "stateReason": "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (0.0)."},
                "newState": {"stateValue": new, "stateReason": "Threshold Crossed: 1 datapoint [3.0 (01/12/26 07:01:00)] was greater than the threshold (0.0)."},
            })
            .to_string()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
            format!(
                "<member><AlarmName>{STACK}-{name}</AlarmName><AlarmType>MetricAlarm</AlarmType><Timestamp>2026-12-01T07:02:05.442Z</Timestamp><HistoryItemType>StateUpdate</HistoryItemType><HistorySummary>Alarm updated from {old} to {new}</HistorySummary><HistoryData>{data}</HistoryData></member>"
            )
        })
        .collect();
    format!(
        r#"<DescribeAlarmHistoryResponse xmlns="{CW_NS}"><DescribeAlarmHistoryResult><AlarmHistoryItems>{members}</AlarmHistoryItems></DescribeAlarmHistoryResult><ResponseMetadata><RequestId>3c4d</RequestId></ResponseMetadata></DescribeAlarmHistoryResponse>"#
    )
}

fn cw(
    responses: Vec<String>,
) -> (
    aws_sdk_cloudwatch::Client,
    aws_smithy_http_client::test_util::StaticReplayClient,
) {
    let replay = replay(
        "https://monitoring.us-east-1.amazonaws.com/",
        "text/xml",
        responses.into_iter().map(|b| (200, b)).collect(),
    );
    (client!(aws_sdk_cloudwatch, replay), replay)
}

fn snapshot_of(states: &[(&str, &str)]) -> AlarmSnapshot {
    AlarmSnapshot {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_108_400), // 2026-12-01T07:00Z
        states: states
            .iter()
            .map(|(n, s)| (format!("{STACK}-{n}"), (*s).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn bodies(replay: &aws_smithy_http_client::test_util::StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .map(|r| String::from_utf8(r.body().bytes().unwrap().to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn an_alarm_already_firing_before_the_deploy_is_reported_not_blamed() {
    let before = snapshot_of(&[
        ("dlq", "ALARM"),
        ("errors", "OK"),
        ("no-results", "INSUFFICIENT_DATA"),
    ]);
    // Still firing after, and no-results in ALARM (canaries publish no results metric):
    // neither is the deploy's; the errors alarm's history is quiet.
    let (cw, replay) = cw(vec![
        alarms_xml(&[("dlq", "ALARM"), ("errors", "OK"), ("no-results", "ALARM")]),
        history_xml(&[]),
        history_xml(&[]),
    ]);
    let blamed = watch_alarms(&cw, STACK, &before, Duration::ZERO, Duration::ZERO, true)
        .await
        .unwrap();
    assert!(blamed.is_empty(), "{blamed:?}");
    let sent = bodies(&replay);
    assert_eq!(
        sent.len(),
        3,
        "a history read for each alarm but no-results (dlq may have fired again)"
    );
    assert!(sent[0].contains("Action=DescribeAlarms"), "{}", sent[0]);
    assert!(
        sent[0].contains(&format!("AlarmNamePrefix={STACK}-")),
        "{}",
        sent[0]
    );
    // Without AlarmTypes, DescribeAlarms answers metric alarms only (API reference):
    // a composite alarm with a fangops name would go unseen.
    assert!(
        sent[0].contains("AlarmTypes.member.1=MetricAlarm")
            && sent[0].contains("AlarmTypes.member.2=CompositeAlarm"),
        "{}",
        sent[0]
    );
    assert!(
        sent[1].contains(&format!("AlarmName={STACK}-dlq")),
        "{}",
        sent[1]
    );
    let history = &sent[2];
    assert!(history.contains("Action=DescribeAlarmHistory"), "{history}");
    assert!(
        history.contains(&format!("AlarmName={STACK}-errors")),
        "{history}"
    );
    assert!(history.contains("HistoryItemType=StateUpdate"), "{history}");
    assert!(
        history.contains("StartDate=2026-12-01T07%3A00%3A00Z"),
        "{history}"
    );
    // And the verification's line names the one already firing.
    let v = Verification {
        env: "dev".into(),
        stack: STACK.into(),
        passed: true,
        canary_run: Some(run_id()),
        companies: vec!["Apple".into()],
        reported: Vec::new(),
        checks: Vec::new(),
        already_alarming: vec![format!("{STACK}-dlq")],
        duration_s: 38.2,
    };
    assert_eq!(
        v.summary(),
        "verified in 38 s: 1 canary result, no new alarms (1 already in ALARM before: fang-dev-dlq)"
    );
}

#[tokio::test]
async fn an_alarm_that_fired_and_recovered_between_reads_is_caught_by_its_history() {
    let before = snapshot_of(&[("errors", "OK")]);
    let (cw, _replay) = cw(vec![
        alarms_xml(&[("errors", "OK")]),
        history_xml(&[("errors", "ALARM", "OK"), ("errors", "OK", "ALARM")]),
    ]);
    let blamed = watch_alarms(&cw, STACK, &before, Duration::ZERO, Duration::ZERO, true)
        .await
        .unwrap();
    assert_eq!(blamed.len(), 1, "{blamed:?}");
    assert!(
        blamed[0].starts_with(
            "fang-dev-errors entered ALARM at 2026-12-01T07:02:05.442Z: Threshold Crossed"
        ),
        "{blamed:?}"
    );
}

#[tokio::test]
async fn an_alarm_firing_before_that_recovers_and_fires_again_is_blamed() {
    let before = snapshot_of(&[("dlq", "ALARM")]);
    // In ALARM at both reads, so its state says nothing; its history does.
    let (cw, replay) = cw(vec![
        alarms_xml(&[("dlq", "ALARM")]),
        history_xml(&[("dlq", "OK", "ALARM"), ("dlq", "ALARM", "OK")]),
    ]);
    let blamed = watch_alarms(&cw, STACK, &before, Duration::ZERO, Duration::ZERO, true)
        .await
        .unwrap();
    assert_eq!(blamed.len(), 1, "{blamed:?}");
    assert!(
        blamed[0].starts_with("fang-dev-dlq entered ALARM at 2026-12-01T07:02:05.442Z"),
        "{blamed:?}"
    );
    let history = &bodies(&replay)[1];
    assert!(
        history.contains(&format!("AlarmName={STACK}-dlq"))
            && history.contains("StartDate=2026-12-01T07%3A00%3A00Z"),
        "the history since the snapshot: {history}"
    );
}

#[tokio::test]
async fn an_alarm_firing_before_that_returns_from_missing_data_is_not_blamed() {
    // INSUFFICIENT_DATA → ALARM: a gap in the metric, the old cause still there.
    let before = snapshot_of(&[("dlq", "ALARM")]);
    let (cw, _replay) = cw(vec![
        alarms_xml(&[("dlq", "ALARM")]),
        history_xml(&[
            ("dlq", "INSUFFICIENT_DATA", "ALARM"),
            ("dlq", "ALARM", "INSUFFICIENT_DATA"),
        ]),
    ]);
    let blamed = watch_alarms(&cw, STACK, &before, Duration::ZERO, Duration::ZERO, true)
        .await
        .unwrap();
    assert!(blamed.is_empty(), "{blamed:?}");
}

#[tokio::test]
async fn on_demand_an_alarm_that_entered_alarm_since_the_deploy_is_the_deploys() {
    // In ALARM when `fangops verify` starts: dlq entered it after the deploy began,
    // errors before (its history since then is empty).
    let before = snapshot_of(&[
        ("dlq", "ALARM"),
        ("errors", "ALARM"),
        ("no-results", "ALARM"),
    ]);
    let (cw, replay) = cw(vec![
        history_xml(&[("dlq", "OK", "ALARM")]),
        history_xml(&[]),
    ]);
    let since = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_100_000);
    let theirs = super::alarming_since(&cw, STACK, &before, since)
        .await
        .unwrap();
    assert_eq!(theirs, vec![format!("{STACK}-dlq")]);
    let sent = bodies(&replay);
    assert_eq!(sent.len(), 2, "no-results is never read");
    assert!(
        sent[0].contains("StartDate=2026-12-01T04%3A40%3A00Z"),
        "{}",
        sent[0]
    );
}

#[test]
fn alarms_that_cannot_be_read_fail_their_check_only() {
    let check = super::alarms_check(
        Err(anyhow::anyhow!(
            "reading the history of alarm fang-dev-dlq (DescribeAlarmHistory): AccessDenied"
        )),
        Duration::from_secs(120),
        Duration::from_millis(300),
    );
    assert!(!check.passed);
    assert_eq!(check.name, "alarms");
    assert!(
        check
            .detail
            .starts_with("could not read the alarms: reading the history"),
        "{}",
        check.detail
    );
    let quiet = super::alarms_check(Ok(Vec::new()), Duration::from_secs(120), Duration::ZERO);
    assert!(quiet.passed);
    assert_eq!(quiet.detail, "none entered ALARM in 120 s");
}

#[tokio::test]
async fn a_new_alarm_fails_the_watch_at_once() {
    let before = snapshot_of(&[("errors", "OK")]);
    let (cw, replay) = cw(vec![alarms_xml(&[("errors", "ALARM")])]);
    // A watch of an hour ends at the first read that finds the alarm.
    let blamed = watch_alarms(
        &cw,
        STACK,
        &before,
        Duration::from_secs(3600),
        Duration::from_secs(10),
        true,
    )
    .await
    .unwrap();
    assert_eq!(blamed, vec!["fang-dev-errors is in ALARM".to_owned()]);
    assert_eq!(replay.actual_requests().count(), 1);
}

#[test]
fn history_data_that_did_not_enter_alarm_is_not_blamed() {
    assert_eq!(
        cloudwatch::entered_alarm(
            r#"{"version":"1.0","oldState":{"stateValue":"ALARM"},"newState":{"stateValue":"OK","stateReason":"back"}}"#
        ),
        None
    );
    assert_eq!(
        cloudwatch::entered_alarm(r#"{"newState":{"stateValue":"ALARM"}}"#),
        Some((String::new(), "no reason given".to_owned()))
    );
    assert_eq!(
        cloudwatch::entered_alarm(
            r#"{"oldState":{"stateValue":"ALARM"},"newState":{"stateValue":"ALARM"}}"#
        ),
        None,
        "ALARM to ALARM enters nothing"
    );
    assert_eq!(cloudwatch::entered_alarm("not json"), None);
}

// --- the producer invoke and S3 -------------------------------------------------------

fn names() -> Names {
    Names::new(STACK, "123456789012")
}

fn invocation<'a>(
    names: &'a Names,
    canary: &'a [String],
    timeout: Duration,
) -> crate::run::aws::Invocation<'a> {
    crate::run::aws::Invocation {
        env: "dev",
        names,
        run_id: run_id(),
        canary: Some(canary),
        timeout,
        poll: Duration::ZERO,
    }
}

fn lambda(
    status: u16,
    body: &str,
    function_error: Option<&str>,
) -> (
    aws_sdk_lambda::Client,
    aws_smithy_http_client::test_util::StaticReplayClient,
) {
    let mut headers = vec![("x-amz-executed-version", "$LATEST".to_owned())];
    if let Some(e) = function_error {
        headers.push(("x-amz-function-error", e.to_owned()));
    }
    let replay = replay_with_headers(
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/fang-dev-producer/invocations",
        "application/json",
        vec![(status, body.to_owned(), headers)],
    );
    (client!(aws_sdk_lambda, replay), replay)
}

const NO_SUCH_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>5e6f</RequestId></Error>"#;

fn listing(keys: &[String]) -> String {
    let contents: String = keys
        .iter()
        .map(|k| format!("<Contents><Key>{k}</Key><Size>100</Size></Contents>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p</Prefix><KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>"#,
        keys.len()
    )
}

fn s3(
    responses: Vec<(u16, String)>,
) -> (
    aws_sdk_s3::Client,
    aws_smithy_http_client::test_util::StaticReplayClient,
) {
    let replay = replay(
        "https://fang-dev-123456789012-results.s3.us-east-1.amazonaws.com/",
        "application/xml",
        responses,
    );
    (client!(aws_sdk_s3, replay), replay)
}

#[tokio::test]
async fn a_canary_invokes_the_producer_with_its_companies_then_polls_s3_until_the_summary() {
    let names = names();
    let canary = vec!["Apple".to_owned()];
    let (lambda, lambda_replay) = lambda(200, "{\"queued\":1}", None);
    let manifest = serde_json::json!({
        "run_id": run_id(), "companies": 1, "started_at": "2026-12-01T07:00:00Z"
    })
    .to_string();
    let result_key = fang_shared::keys::result_key(&run_id(), "Apple");
    let summary_key = fang_shared::keys::summary_key(&run_id());
    let (s3, s3_replay) = s3(vec![
        // First poll: the manifest, no result yet.
        (200, manifest.clone()),
        (200, listing(&[fang_shared::keys::manifest_key(&run_id())])),
        // Second poll: the result and the summary.
        (200, manifest),
        (200, listing(&[result_key.clone(), summary_key.clone()])),
        // The summary read for companies without text.
        (200, fang_shared::summary::to_csv(&[result("Apple")])),
    ]);
    let ui = Ui::new(false, true, true);
    let report = crate::run::aws::invoke_and_wait(
        &lambda,
        &s3,
        invocation(&names, &canary, Duration::from_secs(60)),
        &ui,
    )
    .await
    .unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!((report.companies, report.succeeded), (1, 1));
    let invoke = lambda_replay.actual_requests().next().unwrap();
    assert!(
        invoke
            .uri()
            .ends_with("/2015-03-31/functions/fang-dev-producer/invocations"),
        "{}",
        invoke.uri()
    );
    let payload: serde_json::Value =
        serde_json::from_slice(invoke.body().bytes().unwrap()).unwrap();
    assert_eq!(
        payload,
        serde_json::json!({"run_id": run_id(), "companies": ["Apple"]})
    );
    let uris: Vec<String> = s3_replay
        .actual_requests()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(uris.len(), 5, "{uris:#?}");
    assert!(
        uris[1].contains("prefix=canary%2F2026-12-01%2Fcanary-20261201T070000Z-00000001%2F"),
        "{}",
        uris[1]
    );
}

#[tokio::test]
async fn a_producer_that_fails_fails_the_canary_with_its_error() {
    let names = names();
    let canary = vec!["Apple".to_owned()];
    let (lambda, _) = lambda(
        200,
        r#"{"errorType":"UnknownCompanies","errorMessage":"not in table fang-dev-companies: Apple"}"#,
        Some("Unhandled"),
    );
    let (s3, s3_replay) = s3(Vec::new());
    let ui = Ui::new(false, true, true);
    let err = crate::run::aws::invoke_and_wait(
        &lambda,
        &s3,
        invocation(&names, &canary, Duration::from_secs(60)),
        &ui,
    )
    .await
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("function fang-dev-producer failed (Unhandled)"),
        "{text}"
    );
    assert!(
        text.contains("not in table fang-dev-companies: Apple"),
        "{text}"
    );
    assert_eq!(
        s3_replay.actual_requests().count(),
        0,
        "nothing to wait for"
    );
}

#[tokio::test]
async fn a_canary_without_a_result_before_the_timeout_names_the_dead_letter_queue() {
    let names = names();
    let canary = vec!["Apple".to_owned()];
    let (lambda, _) = lambda(200, "null", None);
    let (s3, _) = s3(vec![
        (404, NO_SUCH_KEY.to_owned()),
        (200, listing(&[])),
        (404, NO_SUCH_KEY.to_owned()),
    ]);
    let ui = Ui::new(false, true, true);
    let report = crate::run::aws::invoke_and_wait(
        &lambda,
        &s3,
        invocation(&names, &canary, Duration::ZERO),
        &ui,
    )
    .await
    .unwrap();
    assert!(!report.ok());
    assert!(report.timed_out);
    assert_eq!(
        report.companies, 1,
        "a run with no manifest still counts its canaries"
    );
    assert_eq!(report.failed[0].company, "1 company");
    assert!(
        report.failed[0]
            .reason
            .contains("dead-letter queue fang-dev-companies-dlq"),
        "{:?}",
        report.failed
    );
    assert_eq!(
        run_detail(&report),
        "1 company: no result within 0 s; failed messages end in the dead-letter queue fang-dev-companies-dlq"
    );
}

#[tokio::test]
async fn a_canary_whose_message_failed_ends_at_once_with_the_reason() {
    let names = names();
    let canary = vec!["Apple".to_owned()];
    let (lambda, _) = lambda(200, "null", None);
    let manifest = serde_json::json!({
        "run_id": run_id(), "companies": 1, "started_at": "2026-12-01T07:00:00Z"
    })
    .to_string();
    let note_key = fang_shared::keys::failure_key(&run_id(), "Apple");
    let note = serde_json::json!({
        "company": "Apple",
        "reason": "fetching the Wikipedia summary of \"Apple\": HTTP 403 Forbidden",
        "at": "2026-12-01T07:00:04Z"
    })
    .to_string();
    let (s3, s3_replay) = s3(vec![
        (200, manifest),
        (
            200,
            listing(&[fang_shared::keys::manifest_key(&run_id()), note_key.clone()]),
        ),
        (200, note),
        (404, NO_SUCH_KEY.to_owned()),
    ]);
    let ui = Ui::new(false, true, true);
    // An hour's timeout: the note ends the wait at the first poll, not the timeout.
    let report = crate::run::aws::invoke_and_wait(
        &lambda,
        &s3,
        invocation(&names, &canary, Duration::from_secs(3600)),
        &ui,
    )
    .await
    .unwrap();
    assert!(!report.ok() && !report.timed_out, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert_eq!(
        run_detail(&report),
        "Apple: fetching the Wikipedia summary of \"Apple\": HTTP 403 Forbidden (the message is tried again after the queue's visibility timeout, then goes to the dead-letter queue fang-dev-companies-dlq)"
    );
    let uris: Vec<String> = s3_replay
        .actual_requests()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(uris.len(), 4, "one poll: {uris:#?}");
    assert!(uris[2].contains("/_failures/"), "{}", uris[2]);
}

#[test]
fn a_note_with_a_result_beside_it_is_an_attempt_that_failed_before_one_succeeded() {
    let result = fang_shared::keys::result_key(&run_id(), "Apple");
    let apple = fang_shared::keys::failure_key(&run_id(), "Apple");
    let netflix = fang_shared::keys::failure_key(&run_id(), "Netflix");
    let keys = vec![result, apple, netflix.clone()];
    assert_eq!(crate::run::aws::still_failing(&keys), vec![netflix]);
}

/// The whole of a verification in AWS, on a scripted AWS that answers each call as
/// the service would (routed by host and action): the stack read, the producer invoked
/// with a canary run id, S3 polled for that run, its result read back against the
/// stack's analyzer, the alarms and their history read. The result names the run id
/// the producer was invoked with, which only a live answer can know.
#[tokio::test]
async fn a_verification_in_aws_runs_each_check_against_the_services_in_order() {
    use std::sync::{Arc, Mutex};

    let env = crate::config::parse(
        std::path::Path::new("environments/dev.yaml"),
        b"stack: fang-dev\nregion: us-east-1\nsentiment: comprehend\nverify:\n  alarm_watch_s: 0\ncompanies:\n  - Apple\n  - Netflix\n",
    )
    .unwrap();
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let invoked = Arc::new(Mutex::new(None::<RunId>));
    let http = {
        let (calls, invoked) = (calls.clone(), invoked.clone());
        aws_smithy_http_client::test_util::infallible_client_fn(move |req| {
            let host = req.uri().host().unwrap_or_default().to_owned();
            let path = req.uri().path().to_owned();
            let query = req.uri().query().unwrap_or_default().to_owned();
            let body = String::from_utf8(req.body().bytes().unwrap_or_default().to_vec()).unwrap();
            let action = body
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned();
            let run = invoked.lock().unwrap().clone();
            let (call, status, answer) = if host.starts_with("cloudformation.") {
                let stack = format!(
                    "<Stacks><member><StackId>{}</StackId><StackName>fang-dev</StackName><CreationTime>2026-11-30T09:12:03.441Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Parameters><member><ParameterKey>Analyzer</ParameterKey><ParameterValue>comprehend</ParameterValue></member></Parameters><Outputs/><Tags/></member></Stacks>",
                    crate::testing::replay::cfn::STACK_ID
                );
                (
                    action.clone(),
                    200,
                    crate::testing::replay::cfn::ok(&action, &stack).1,
                )
            } else if host.starts_with("lambda.") {
                let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
                let id = RunId::new(payload["run_id"].as_str().unwrap()).unwrap();
                assert_eq!(payload["companies"], serde_json::json!(["Apple"]));
                *invoked.lock().unwrap() = Some(id);
                (format!("Invoke {path}"), 200, "{\"queued\":1}".to_owned())
            } else if host.starts_with("fang-dev-123456789012-results.s3.") {
                let run = run.expect("S3 is read after the invoke");
                let result_key = fang_shared::keys::result_key(&run, "Apple");
                let key = path.trim_start_matches('/').to_owned();
                if query.contains("list-type=2") {
                    let keys = [
                        fang_shared::keys::manifest_key(&run),
                        result_key,
                        fang_shared::keys::summary_key(&run),
                    ];
                    ("ListObjectsV2".to_owned(), 200, listing(&keys))
                } else if key == fang_shared::keys::manifest_key(&run) {
                    let m = serde_json::json!({"run_id": run, "companies": 1, "started_at": "2026-12-01T07:00:00Z"});
                    (format!("GetObject {key}"), 200, m.to_string())
                } else if key == fang_shared::keys::summary_key(&run) {
                    let r = SentimentRecord {
                        run_id: run.clone(),
                        ..result("Apple")
                    };
                    (
                        format!("GetObject {key}"),
                        200,
                        fang_shared::summary::to_csv(&[r]),
                    )
                } else if key == result_key {
                    let r = SentimentRecord {
                        run_id: run.clone(),
                        ..result("Apple")
                    };
                    (
                        format!("GetObject {key}"),
                        200,
                        serde_json::to_string(&r).unwrap(),
                    )
                } else {
                    (format!("GetObject {key}"), 404, NO_SUCH_KEY.to_owned())
                }
            } else if host.starts_with("monitoring.") {
                let answer = match action.as_str() {
                    "DescribeAlarms" => {
                        alarms_xml(&[("dlq-messages", "OK"), ("sentiment-errors", "OK")])
                    }
                    _ => history_xml(&[]),
                };
                (action.clone(), 200, answer)
            } else {
                panic!("unexpected call to {host}{path}");
            };
            calls.lock().unwrap().push(call);
            http::Response::builder()
                .status(status)
                .body(aws_smithy_types::body::SdkBody::from(answer))
                .unwrap()
        })
    };
    let ctx = AwsContext::answered_by(&env, http, "123456789012");
    let target = crate::target::Target::with_aws(std::path::Path::new("."), env, ctx);
    let before = snapshot_of(&[("dlq-messages", "OK"), ("sentiment-errors", "OK")]);
    let ui = Ui::new(false, true, true);
    let v = verify(&target, &before, &VerifyOptions::default(), &ui)
        .await
        .unwrap();
    assert!(v.passed, "{v:#?}");
    let names: Vec<&str> = v.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["canary run", "result schema", "alarms"]);
    assert_eq!(v.canary_run, *invoked.lock().unwrap());
    assert_eq!(
        v.checks[1].detail,
        "1 result as the schema says: Apple positive (0.91)"
    );
    let calls = calls.lock().unwrap().clone();
    let run = v.canary_run.unwrap();
    let prefix = fang_shared::keys::run_prefix(&run);
    assert_eq!(
        calls,
        [
            "DescribeStacks".to_owned(),
            "Invoke /2015-03-31/functions/fang-dev-producer/invocations".to_owned(),
            format!("GetObject {prefix}_run.json"),
            "ListObjectsV2".to_owned(),
            format!("GetObject {prefix}summary.csv"),
            "ListObjectsV2".to_owned(),
            format!("GetObject {}", fang_shared::keys::result_key(&run, "Apple")),
            "DescribeAlarms".to_owned(),
            "DescribeAlarmHistory".to_owned(),
            "DescribeAlarmHistory".to_owned(),
        ]
    );
}

#[test]
fn verification_renderings() {
    let passed = Verification {
        env: "dev".into(),
        stack: STACK.into(),
        passed: true,
        canary_run: Some(run_id()),
        companies: vec!["Apple".into()],
        reported: Vec::new(),
        checks: vec![
            Check {
                name: "canary run".into(),
                passed: true,
                detail: "1 of 1 canary through the pipeline in 31.2 s".into(),
                duration_s: 31.2,
            },
            Check {
                name: "result schema".into(),
                passed: true,
                detail: "1 result as the schema says: Apple positive (0.91)".into(),
                duration_s: 0.2,
            },
            Check {
                name: "alarms".into(),
                passed: true,
                detail: "none entered ALARM in 120 s".into(),
                duration_s: 120.4,
            },
        ],
        already_alarming: vec![format!("{STACK}-dlq")],
        duration_s: 151.8,
    };
    insta::assert_snapshot!(
        "verification_passed",
        crate::output::plain(&passed.render())
    );
    let mut failed = passed.clone();
    failed.passed = false;
    failed.checks.truncate(1);
    failed.checks[0].passed = false;
    failed.checks[0].detail = "Apple: no result before the timeout; last error: fetching https://en.wikipedia.org/api/rest_v1/page/summary/Apple: connection refused".into();
    failed.checks.push(Check {
        name: "alarms".into(),
        passed: true,
        detail: "none entered ALARM".into(),
        duration_s: 0.1,
    });
    insta::assert_snapshot!(
        "verification_failed",
        crate::output::plain(&failed.render())
    );
    assert_eq!(
        failed.summary(),
        "verification failed: canary run: Apple: no result before the timeout; last error: fetching https://en.wikipedia.org/api/rest_v1/page/summary/Apple: connection refused"
    );
}
