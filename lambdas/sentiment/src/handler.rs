//! One SQS batch, end to end: read the messages, fetch the texts, analyze them, store
//! the results, and tell SQS which messages to retry.
//!
//! A company whose text cannot exist (no page, a disambiguation page) is a result too,
//! with status `no_text` and the reason: retrying it would only walk it through the
//! queue into the dead-letter queue and fire the alarm. What may pass (throttling, a
//! server error, no time left) goes back to the queue.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use std::sync::atomic::{AtomicU64, Ordering};

use fang_shared::metrics::{self, BatchMetrics};
use fang_shared::{ResultStatus, RunId, SentimentRecord};
use serde::Serialize;

use crate::analyze::{Analysis, Analyzer};
use crate::cache::{self, Cache, StoredAnalysis, StoredPage};
use crate::text::{Fetched, Text, TextError, TextSource};
use fang_shared::keys;
use futures::StreamExt;

use crate::{BatchResponse, SqsEvent, parse_batch, store};

/// The excerpt kept in each result, in characters.
pub const EXCERPT_CHARS: usize = 280;

/// Wikipedia requests of one batch in flight at once.
pub const TEXT_CONCURRENCY: usize = 4;
/// Cache reads and writes of one batch in flight at once (S3).
const CACHE_CONCURRENCY: usize = 8;

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
    /// Reuse pages and analyses between runs (`cache:` of the env file); off when
    /// `None`.
    pub cache: Option<Cache>,
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
/// retries stop in time for the batch to report what it has. Step by step: decode the
/// messages, fetch their texts, analyze the texts, store the results, report what
/// failed.
pub async fn handle_batch(
    deps: &Deps,
    event: &SqsEvent,
    now: time::OffsetDateTime,
    deadline: Instant,
) -> BatchOutcome {
    let mut outcome = BatchOutcome::default();
    let batch = decode(event, &mut outcome);
    let analyzed_at = fang_shared::rfc3339(now);
    let fetched = fetch(deps, batch.messages, &analyzed_at, deadline, &mut outcome).await;
    let mut records = fetched.no_text;
    let texts = Texts {
        items: fetched.with_text,
        now,
        analyzed_at: &analyzed_at,
    };
    records.extend(analyze(deps, texts, deadline, &mut outcome).await);
    store_results(deps, records, &mut outcome).await;
    report_failures(deps, &batch.canaries, &analyzed_at, &outcome).await;
    outcome.response =
        BatchResponse::from_failed_ids(outcome.failed.iter().map(|f| f.message_id.clone()));
    outcome
}

/// A message of the batch: its SQS id and what it asks for.
type Message = (String, fang_shared::CompanyMessage);
/// A message whose text was found.
type WithText = (String, fang_shared::CompanyMessage, Text);
/// A result to store, for the message it answers.
type Record = (String, SentimentRecord);

/// The batch's messages, read.
struct Decoded {
    messages: Vec<Message>,
    /// The canaries' messages, by id: their failures leave a note (`report_failures`).
    canaries: HashMap<String, RunId>,
}

/// Step 1, decode: a message that cannot be read fails alone.
fn decode(event: &SqsEvent, outcome: &mut BatchOutcome) -> Decoded {
    let parsed = parse_batch(event);
    let canaries = parsed
        .ok
        .iter()
        .filter(|(_, m)| m.run_id.is_canary())
        .map(|(id, m)| (id.clone(), m.run_id.clone()))
        .collect();
    for (message_id, e) in parsed.failed {
        outcome.failed.push(Failure {
            message_id,
            company: None,
            reason: e.to_string(),
        });
    }
    Decoded {
        messages: parsed.ok,
        canaries,
    }
}

/// What the fetch step leaves: the texts found, and the results of companies that
/// have none (a missing or disambiguation page).
struct FetchedTexts {
    with_text: Vec<WithText>,
    no_text: Vec<Record>,
}

/// Step 2, fetch: each company's text, a few at a time (a batch carries up to 25 messages,
/// and Wikimedia asks clients not to burst). A page whose kept validator still holds is
/// not downloaded; a page fetched anew is kept for the next run.
async fn fetch(
    deps: &Deps,
    messages: Vec<Message>,
    analyzed_at: &str,
    deadline: Instant,
    outcome: &mut BatchOutcome,
) -> FetchedTexts {
    let stored = kept_pages(deps, &messages).await;
    let requests = AtomicU64::new(0);
    let texts: Vec<_> = futures::stream::iter(messages.iter().zip(&stored))
        .map(|((_, m), kept)| {
            let etag = kept.as_ref().map(|p| p.etag.as_str());
            deps.text
                .fetch_if_changed(&m.company, m.page(), deadline, &requests, etag)
        })
        .buffered(TEXT_CONCURRENCY)
        .collect()
        .await;
    outcome.metrics.wikipedia_requests = requests.load(Ordering::Relaxed);
    let mut out = FetchedTexts {
        with_text: Vec::new(),
        no_text: Vec::new(),
    };
    let mut new_pages = Vec::new();
    for (((message_id, msg), text), kept) in messages.into_iter().zip(texts).zip(stored) {
        let text = match (text, kept) {
            (Ok(Fetched::Text { text, etag }), _) => {
                if let (Some(etag), Some(_)) = (etag, &deps.cache) {
                    new_pages.push(StoredPage {
                        title: msg.page().to_owned(),
                        etag,
                        text: text.text.clone(),
                        source_url: text.source_url.clone(),
                        fetched_at: analyzed_at.to_owned(),
                    });
                }
                Ok(text)
            }
            (Ok(Fetched::NotModified), Some(kept)) => {
                outcome.metrics.wikipedia_not_modified += 1;
                Ok(Text {
                    text: kept.text,
                    source_url: kept.source_url,
                })
            }
            // A 304 is only asked for with a kept text; without one it is a bad answer.
            (Ok(Fetched::NotModified), None) => Err(TextError::Http {
                company: msg.company.clone(),
                message: "HTTP 304 to a request without a validator".to_owned(),
            }),
            (Err(e), _) => Err(e),
        };
        match text {
            Ok(text) => out.with_text.push((message_id, msg, text)),
            // Permanent: a result that says why, not a retry.
            Err(e) if !e.is_transient() => {
                let record = no_text_record(deps, msg, e.to_string(), analyzed_at);
                out.no_text.push((message_id, record));
            }
            Err(e) => outcome.failed.push(Failure {
                message_id,
                company: Some(msg.company),
                reason: e.to_string(),
            }),
        }
    }
    futures::stream::iter(&new_pages)
        .for_each_concurrent(CACHE_CONCURRENCY, |p| {
            let key = keys::page_cache_key(&p.title);
            async move { cache::put(&deps.s3, &deps.bucket, &key, p).await }
        })
        .await;
    out
}

/// The texts kept from the last fetch of each message's page, with their validators
/// (Wikipedia's texts only, and only with the cache on).
async fn kept_pages(deps: &Deps, messages: &[Message]) -> Vec<Option<StoredPage>> {
    let wikipedia = matches!(deps.text, TextSource::Wikipedia(_));
    if deps.cache.is_none() || !wikipedia {
        return vec![None; messages.len()];
    }
    futures::stream::iter(messages)
        .map(|(_, m)| {
            let key = keys::page_cache_key(m.page());
            async move { cache::get(&deps.s3, &deps.bucket, &key).await }
        })
        .buffered(CACHE_CONCURRENCY)
        .collect()
        .await
}

/// The result of a company that has no text to analyze, saying why.
fn no_text_record(
    deps: &Deps,
    msg: fang_shared::CompanyMessage,
    reason: String,
    analyzed_at: &str,
) -> SentimentRecord {
    SentimentRecord {
        page: page_of(deps, &msg),
        company: msg.company,
        run_id: msg.run_id,
        status: ResultStatus::NoText,
        reason: Some(reason),
        source_url: String::new(),
        excerpt: String::new(),
        sentiment: None,
        scores: None,
        analyzer: deps.analyzer.kind(),
        chars_analyzed: 0,
        analyzed_at: analyzed_at.to_owned(),
        cached: None,
    }
}

/// The texts to analyze, and when.
struct Texts<'a> {
    items: Vec<WithText>,
    now: time::OffsetDateTime,
    analyzed_at: &'a str,
}

/// Step 3, analyze: each distinct text once, and not at all when the cache holds a fresh
/// analysis of it (a canary's texts are always sent: a canary proves the whole path,
/// the analyzer included). Returns the results of the texts analyzed; a text whose
/// analysis failed fails its message.
async fn analyze(
    deps: &Deps,
    texts: Texts<'_>,
    deadline: Instant,
    outcome: &mut BatchOutcome,
) -> Vec<Record> {
    let kind = deps.analyzer.kind();
    let inputs: Vec<&str> = texts
        .items
        .iter()
        .map(|(_, _, t)| deps.analyzer.prepare(&t.text))
        .collect();
    let distinct = distinct(&inputs);
    let canary_texts: Vec<&str> = texts
        .items
        .iter()
        .zip(&inputs)
        .filter(|((_, m, _), _)| m.run_id.is_canary())
        .map(|(_, t)| *t)
        .collect();
    let known = cached_analyses(deps, &distinct, &canary_texts, texts.now).await;
    let to_send: Vec<&str> = distinct
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .map(|(t, _)| *t)
        .collect();
    let sent = deps.analyzer.analyze_all(&to_send, deadline).await;
    count_sent(&mut outcome.metrics, kind, &to_send);
    remember_analyses(deps, &to_send, &sent, texts.analyzed_at).await;
    // Each input's analysis, and when it was made if it came from the cache.
    let analysis_of = |t: &str| -> Analyzed {
        let i = distinct
            .iter()
            .position(|d| *d == t)
            .expect("every input is distinct-listed");
        if let Some(k) = &known[i] {
            let a = Analysis {
                sentiment: k.sentiment,
                scores: k.scores,
            };
            return Ok((a, Some(k.analyzed_at.clone())));
        }
        let j = to_send
            .iter()
            .position(|s| *s == t)
            .expect("a miss was sent");
        sent[j]
            .clone()
            .map(|a| (a, None))
            .map_err(|e| e.to_string())
    };
    if deps.cache.is_some() {
        outcome.metrics.cache_misses = to_send.len() as u64;
        outcome.metrics.cache_hits = (inputs.len() - to_send.len()) as u64;
    }
    let analyses: Vec<_> = inputs
        .iter()
        .map(|t| (analysis_of(t), t.chars().count()))
        .collect();
    records(deps, texts, analyses, outcome)
}

/// A text's analysis, and when it was made if it came from the cache; or why it failed.
type Analyzed = Result<(Analysis, Option<String>), String>;

/// Each text once, in the order first met.
fn distinct<'t>(inputs: &[&'t str]) -> Vec<&'t str> {
    let mut distinct: Vec<&str> = Vec::new();
    for t in inputs {
        if !distinct.contains(t) {
            distinct.push(t);
        }
    }
    distinct
}

/// Each text's analysis (and its length, and when it was cached) with its message: a
/// result, or the message's failure.
fn records(
    deps: &Deps,
    texts: Texts<'_>,
    analyses: Vec<(Analyzed, usize)>,
    outcome: &mut BatchOutcome,
) -> Vec<Record> {
    let mut records = Vec::new();
    for ((message_id, msg, text), (analysis, chars)) in texts.items.into_iter().zip(analyses) {
        match analysis {
            Ok((a, cached)) => {
                let record = analyzed_record(deps, msg, text, a, chars, cached, texts.analyzed_at);
                records.push((message_id, record));
            }
            Err(reason) => outcome.failed.push(Failure {
                message_id,
                company: Some(msg.company),
                reason,
            }),
        }
    }
    records
}

/// A fresh analysis of each of `distinct` from the cache, when it has one (never for
/// a canary's text).
async fn cached_analyses(
    deps: &Deps,
    distinct: &[&str],
    canary_texts: &[&str],
    now: time::OffsetDateTime,
) -> Vec<Option<StoredAnalysis>> {
    let Some(c) = &deps.cache else {
        return vec![None; distinct.len()];
    };
    let kind = deps.analyzer.kind();
    futures::stream::iter(distinct)
        .map(|t| {
            let key = keys::analysis_cache_key(kind.as_str(), cache::LANGUAGE, t);
            let canary = canary_texts.contains(t);
            async move {
                if canary {
                    return None;
                }
                cache::get::<StoredAnalysis>(&deps.s3, &deps.bucket, &key)
                    .await
                    .filter(|a| a.fresh(now, c.max_age))
            }
        })
        .buffered(CACHE_CONCURRENCY)
        .collect()
        .await
}

/// What was sent to the analyzer, in the batch's metrics.
fn count_sent(metrics: &mut BatchMetrics, kind: fang_shared::AnalyzerKind, sent: &[&str]) {
    let chars: Vec<usize> = sent.iter().map(|t| t.chars().count()).collect();
    metrics.texts_analyzed = sent.len() as u64;
    metrics.chars_analyzed = chars.iter().sum::<usize>() as u64;
    if kind == fang_shared::AnalyzerKind::Comprehend {
        metrics.comprehend_units = chars.iter().map(|&c| metrics::comprehend_units(c)).sum();
    }
}

/// The analyses just made, kept for the next runs (with the cache on).
async fn remember_analyses(
    deps: &Deps,
    sent: &[&str],
    results: &[Result<Analysis, crate::analyze::AnalyzeError>],
    analyzed_at: &str,
) {
    if deps.cache.is_none() {
        return;
    }
    let kind = deps.analyzer.kind();
    let fresh: Vec<(String, StoredAnalysis)> = sent
        .iter()
        .zip(results)
        .filter_map(|(t, r)| {
            let a = r.as_ref().ok()?;
            Some((
                keys::analysis_cache_key(kind.as_str(), cache::LANGUAGE, t),
                StoredAnalysis {
                    analyzer: kind,
                    language: cache::LANGUAGE.to_owned(),
                    sentiment: a.sentiment,
                    scores: a.scores,
                    analyzed_at: analyzed_at.to_owned(),
                },
            ))
        })
        .collect();
    futures::stream::iter(&fresh)
        .for_each_concurrent(CACHE_CONCURRENCY, |(key, a)| {
            cache::put(&deps.s3, &deps.bucket, key, a)
        })
        .await;
}

/// The result of a company whose text was analyzed.
fn analyzed_record(
    deps: &Deps,
    msg: fang_shared::CompanyMessage,
    text: Text,
    a: Analysis,
    chars: usize,
    cached: Option<String>,
    analyzed_at: &str,
) -> SentimentRecord {
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
        analyzed_at: analyzed_at.to_owned(),
        cached,
    }
}

/// Step 4, store: each result, then the summary of each run this batch may have completed.
async fn store_results(deps: &Deps, records: Vec<Record>, outcome: &mut BatchOutcome) {
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
}

/// Step 5, report: every failure logged; a canary's failure is also what the deploy waiting
/// on it needs to know now: its message goes back to the queue, and its retry (or the
/// dead-letter queue) comes only after the visibility timeout, so it leaves a note.
async fn report_failures(
    deps: &Deps,
    canaries: &HashMap<String, RunId>,
    analyzed_at: &str,
    outcome: &BatchOutcome,
) {
    for f in &outcome.failed {
        tracing::warn!(message_id = %f.message_id, company = f.company.as_deref(), reason = %f.reason, "company failed");
    }
    let notes: Vec<_> = outcome
        .failed
        .iter()
        .filter_map(|f| {
            let run_id = canaries.get(&f.message_id)?;
            let company = f.company.clone()?;
            let key = keys::failure_key(run_id, &company);
            let note = fang_shared::FailureNote {
                company,
                reason: f.reason.clone(),
                at: analyzed_at.to_owned(),
            };
            Some((key, serde_json::to_vec(&note).expect("a note serializes")))
        })
        .collect();
    for (key, body) in notes {
        if let Err(e) =
            store::put_json(&deps.s3, &deps.bucket, &key, body, "application/json").await
        {
            tracing::warn!(key, error = %e, "canary failure note not written");
        }
    }
}
