//! One SQS batch, end to end: read the messages, fetch the texts, analyze them, store
//! the results, and tell SQS which messages to retry.
//!
//! A company whose text cannot exist (no page, a disambiguation page) is a result too,
//! with status `no_text` and the reason: retrying it would only walk it through the
//! queue into the dead-letter queue and fire the alarm. What may pass (throttling, a
//! server error, no time left) goes back to the queue.

use std::collections::BTreeSet;
use std::time::Instant;

use std::sync::atomic::{AtomicU64, Ordering};

use fang_shared::metrics::{self, BatchMetrics};
use fang_shared::{ResultStatus, RunId, SentimentRecord};
use serde::Serialize;

use crate::analyze::Analyzer;
use crate::text::TextSource;
use futures::StreamExt;

use crate::{BatchResponse, SqsEvent, parse_batch, store};

/// The excerpt kept in each result, in characters.
pub const EXCERPT_CHARS: usize = 280;

/// Wikipedia requests of one batch in flight at once.
pub const TEXT_CONCURRENCY: usize = 4;

/// What the handler needs, built once per Lambda instance.
#[derive(Debug, Clone)]
pub struct Deps {
    pub text: TextSource,
    pub analyzer: Analyzer,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    /// Whether each batch checks if its run is complete and writes the summary. The
    /// Lambda does; the local runner writes the summary once at the end instead, which
    /// saves a listing of the run per batch.
    pub write_summary: bool,
}

/// What happened to each message of a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchOutcome {
    pub response: BatchResponse,
    pub succeeded: Vec<String>,
    pub failed: Vec<Failure>,
    /// What the batch did and was billed for: the embedded-metric line's values.
    pub metrics: BatchMetrics,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub message_id: String,
    /// Absent when the message itself could not be read.
    pub company: Option<String>,
    pub reason: String,
}

/// The Wikipedia title a message's company was read from, when texts come from there.
fn page_of(deps: &Deps, msg: &fang_shared::CompanyMessage) -> Option<String> {
    matches!(deps.text, TextSource::Wikipedia(_)).then(|| msg.page().to_owned())
}

pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
    }
}

/// One batch; `deadline` is when the function is stopped (Lambda's context deadline):
/// retries stop in time for the batch to report what it has.
pub async fn handle_batch(
    deps: &Deps,
    event: &SqsEvent,
    now: time::OffsetDateTime,
    deadline: Instant,
) -> BatchOutcome {
    let parsed = parse_batch(event);
    let mut outcome = BatchOutcome::default();
    for (message_id, e) in parsed.failed {
        outcome.failed.push(Failure {
            message_id,
            company: None,
            reason: e.to_string(),
        });
    }

    // Texts, a few at a time: a batch carries up to 25 messages, and Wikimedia asks
    // clients not to burst.
    let requests = AtomicU64::new(0);
    let texts: Vec<_> = futures::stream::iter(parsed.ok.iter())
        .map(|(_, m)| deps.text.fetch(&m.company, m.page(), deadline, &requests))
        .buffered(TEXT_CONCURRENCY)
        .collect()
        .await;
    let analyzed_at = fang_shared::rfc3339(now);
    let mut records = Vec::new();
    let mut with_text = Vec::new();
    for ((message_id, msg), text) in parsed.ok.into_iter().zip(texts) {
        match text {
            Ok(text) => with_text.push((message_id, msg, text)),
            // Permanent: a result that says why, not a retry.
            Err(e) if !e.is_transient() => records.push((
                message_id,
                SentimentRecord {
                    page: page_of(deps, &msg),
                    company: msg.company,
                    run_id: msg.run_id,
                    status: ResultStatus::NoText,
                    reason: Some(e.to_string()),
                    source_url: String::new(),
                    excerpt: String::new(),
                    sentiment: None,
                    scores: None,
                    analyzer: deps.analyzer.kind(),
                    chars_analyzed: 0,
                    analyzed_at: analyzed_at.clone(),
                },
            )),
            Err(e) => outcome.failed.push(Failure {
                message_id,
                company: Some(msg.company),
                reason: e.to_string(),
            }),
        }
    }

    let inputs: Vec<&str> = with_text
        .iter()
        .map(|(_, _, t)| deps.analyzer.prepare(&t.text))
        .collect();
    let analyses = deps.analyzer.analyze_all(&inputs, deadline).await;
    let sent: Vec<usize> = inputs.iter().map(|t| t.chars().count()).collect();
    outcome.metrics.wikipedia_requests = requests.load(Ordering::Relaxed);
    outcome.metrics.texts_analyzed = inputs.len() as u64;
    outcome.metrics.chars_analyzed = sent.iter().sum::<usize>() as u64;
    if deps.analyzer.kind() == fang_shared::AnalyzerKind::Comprehend {
        outcome.metrics.comprehend_units = sent.iter().map(|&c| metrics::comprehend_units(c)).sum();
    }
    for (((message_id, msg, text), analysis), chars) in
        with_text.into_iter().zip(analyses).zip(sent)
    {
        match analysis {
            Ok(a) => records.push((
                message_id,
                SentimentRecord {
                    page: page_of(deps, &msg),
                    company: msg.company,
                    run_id: msg.run_id,
                    status: ResultStatus::Ok,
                    reason: None,
                    source_url: text.source_url,
                    excerpt: excerpt(&text.text),
                    sentiment: Some(a.sentiment),
                    scores: Some(a.scores),
                    analyzer: deps.analyzer.kind(),
                    chars_analyzed: chars,
                    analyzed_at: analyzed_at.clone(),
                },
            )),
            Err(e) => outcome.failed.push(Failure {
                message_id,
                company: Some(msg.company),
                reason: e.to_string(),
            }),
        }
    }

    let writes = futures::future::join_all(
        records
            .iter()
            .map(|(_, r)| store::put_record(&deps.s3, &deps.bucket, r)),
    )
    .await;
    let mut runs = BTreeSet::<RunId>::new();
    for ((message_id, record), written) in records.into_iter().zip(writes) {
        match written {
            Ok(bytes) => {
                // The no-results alarm reads this: a canary is not a scheduled run's
                // result, so it must not hide a schedule that stopped.
                if !record.run_id.is_canary() {
                    outcome.metrics.results_written += 1;
                }
                outcome.metrics.result_bytes += bytes as u64;
                runs.insert(record.run_id);
                outcome.succeeded.push(record.company);
            }
            Err(e) => outcome.failed.push(Failure {
                message_id,
                company: Some(record.company),
                reason: e.to_string(),
            }),
        }
    }
    for run_id in runs.into_iter().filter(|_| deps.write_summary) {
        // A summary that cannot be written now is written by a later batch or by
        // `fangops run`; it never fails the companies that succeeded.
        if let Err(e) = store::maybe_write_summary(&deps.s3, &deps.bucket, &run_id).await {
            tracing::warn!(run_id = %run_id, error = %e, "summary not written");
        }
    }
    for f in &outcome.failed {
        tracing::warn!(message_id = %f.message_id, company = f.company.as_deref(), reason = %f.reason, "company failed");
    }
    outcome.response =
        BatchResponse::from_failed_ids(outcome.failed.iter().map(|f| f.message_id.clone()));
    outcome
}
