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
/// retries stop in time for the batch to report what it has.
pub async fn handle_batch(
    deps: &Deps,
    event: &SqsEvent,
    now: time::OffsetDateTime,
    deadline: Instant,
) -> BatchOutcome {
    let parsed = parse_batch(event);
    // Which messages are canaries': their failures leave a note (see the end).
    let canaries: std::collections::HashMap<String, RunId> = parsed
        .ok
        .iter()
        .filter(|(_, m)| m.run_id.is_canary())
        .map(|(id, m)| (id.clone(), m.run_id.clone()))
        .collect();
    let mut outcome = BatchOutcome::default();
    for (message_id, e) in parsed.failed {
        outcome.failed.push(Failure {
            message_id,
            company: None,
            reason: e.to_string(),
        });
    }

    // The texts kept from the last fetch of each page, with their validators.
    let wikipedia = matches!(deps.text, TextSource::Wikipedia(_));
    let stored: Vec<Option<StoredPage>> = match (&deps.cache, wikipedia) {
        (Some(_), true) => {
            futures::stream::iter(parsed.ok.iter())
                .map(|(_, m)| {
                    let key = keys::page_cache_key(m.page());
                    async move { cache::get(&deps.s3, &deps.bucket, &key).await }
                })
                .buffered(CACHE_CONCURRENCY)
                .collect()
                .await
        }
        _ => vec![None; parsed.ok.len()],
    };

    // Texts, a few at a time: a batch carries up to 25 messages, and Wikimedia asks
    // clients not to burst. A page whose validator still holds is not downloaded.
    let requests = AtomicU64::new(0);
    let texts: Vec<_> = futures::stream::iter(parsed.ok.iter().zip(&stored))
        .map(|((_, m), kept)| {
            let etag = kept.as_ref().map(|p| p.etag.as_str());
            deps.text
                .fetch_if_changed(&m.company, m.page(), deadline, &requests, etag)
        })
        .buffered(TEXT_CONCURRENCY)
        .collect()
        .await;
    let analyzed_at = fang_shared::rfc3339(now);
    let mut records = Vec::new();
    let mut with_text = Vec::new();
    let mut new_pages = Vec::new();
    for (((message_id, msg), text), kept) in parsed.ok.into_iter().zip(texts).zip(stored) {
        let text = match (text, kept) {
            (Ok(Fetched::Text { text, etag }), _) => {
                if let (Some(etag), Some(_)) = (etag, &deps.cache) {
                    new_pages.push(StoredPage {
                        title: msg.page().to_owned(),
                        etag,
                        text: text.text.clone(),
                        source_url: text.source_url.clone(),
                        fetched_at: analyzed_at.clone(),
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
                    cached: None,
                },
            )),
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

    // Each distinct text is analyzed once, and not at all when the cache holds a fresh
    // analysis of it.
    let kind = deps.analyzer.kind();
    let inputs: Vec<&str> = with_text
        .iter()
        .map(|(_, _, t)| deps.analyzer.prepare(&t.text))
        .collect();
    let mut distinct: Vec<&str> = Vec::new();
    for t in &inputs {
        if !distinct.contains(t) {
            distinct.push(t);
        }
    }
    // A canary proves the whole path, the analyzer included: its texts are sent.
    let canary_texts: Vec<&str> = with_text
        .iter()
        .zip(&inputs)
        .filter(|((_, m, _), _)| m.run_id.is_canary())
        .map(|(_, t)| *t)
        .collect();
    let known: Vec<Option<StoredAnalysis>> = match &deps.cache {
        Some(c) => {
            futures::stream::iter(&distinct)
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
        None => vec![None; distinct.len()],
    };
    let to_send: Vec<&str> = distinct
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .map(|(t, _)| *t)
        .collect();
    let sent_results = deps.analyzer.analyze_all(&to_send, deadline).await;
    let sent_chars: Vec<usize> = to_send.iter().map(|t| t.chars().count()).collect();
    outcome.metrics.wikipedia_requests = requests.load(Ordering::Relaxed);
    outcome.metrics.texts_analyzed = to_send.len() as u64;
    outcome.metrics.chars_analyzed = sent_chars.iter().sum::<usize>() as u64;
    if kind == fang_shared::AnalyzerKind::Comprehend {
        outcome.metrics.comprehend_units = sent_chars
            .iter()
            .map(|&c| metrics::comprehend_units(c))
            .sum();
    }
    if let Some(_c) = &deps.cache {
        let fresh: Vec<(String, StoredAnalysis)> = to_send
            .iter()
            .zip(&sent_results)
            .filter_map(|(t, r)| {
                let a = r.as_ref().ok()?;
                Some((
                    keys::analysis_cache_key(kind.as_str(), cache::LANGUAGE, t),
                    StoredAnalysis {
                        analyzer: kind,
                        language: cache::LANGUAGE.to_owned(),
                        sentiment: a.sentiment,
                        scores: a.scores,
                        analyzed_at: analyzed_at.clone(),
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
    // Each input's analysis, and when it was made if it came from the cache.
    let analysis_of = |t: &str| -> Result<(Analysis, Option<String>), String> {
        let i = distinct
            .iter()
            .position(|d| *d == t)
            .expect("every input is distinct-listed");
        if let Some(k) = &known[i] {
            return Ok((
                Analysis {
                    sentiment: k.sentiment,
                    scores: k.scores,
                },
                Some(k.analyzed_at.clone()),
            ));
        }
        let j = to_send
            .iter()
            .position(|s| *s == t)
            .expect("a miss was sent");
        sent_results[j]
            .clone()
            .map(|a| (a, None))
            .map_err(|e| e.to_string())
    };
    let results: Vec<_> = inputs.iter().map(|t| analysis_of(t)).collect();
    let input_chars: Vec<usize> = inputs.iter().map(|t| t.chars().count()).collect();
    if deps.cache.is_some() {
        outcome.metrics.cache_misses = to_send.len() as u64;
        outcome.metrics.cache_hits = (inputs.len() - to_send.len()) as u64;
    }
    for (((message_id, msg, text), analysis), chars) in
        with_text.into_iter().zip(results).zip(input_chars)
    {
        match analysis {
            Ok((a, cached)) => records.push((
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
                    analyzer: kind,
                    chars_analyzed: chars,
                    analyzed_at: analyzed_at.clone(),
                    cached,
                },
            )),
            Err(reason) => outcome.failed.push(Failure {
                message_id,
                company: Some(msg.company),
                reason,
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
    // A canary's failure is what the deploy waiting on it needs to know now: its
    // message goes back to the queue, and its retry (or the dead-letter queue) comes
    // only after the visibility timeout.
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
                at: analyzed_at.clone(),
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
    outcome.response =
        BatchResponse::from_failed_ids(outcome.failed.iter().map(|f| f.message_id.clone()));
    outcome
}
