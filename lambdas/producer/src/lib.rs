//! The producer Lambda: scans the companies table and queues one message per company.
//!
//! The handler lives here, as a library, so that `fangops run` drives the very same
//! code against the local emulator; `main.rs` only wires it to the Lambda runtime.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use fang_shared::{CompanyMessage, RunId, RunManifest, SQS_BATCH_MAX, keys};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

/// The table's partition key: the company name, exactly as normalized by fangops.
pub const COMPANY_ATTRIBUTE: &str = "company";
/// The Wikipedia title to read for the company, when the env file gives one.
pub const WIKIPEDIA_ATTRIBUTE: &str = "wikipedia";

/// One company as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Company {
    pub name: String,
    pub wikipedia: Option<String>,
}

/// SendMessageBatch calls in flight at once.
const SEND_CONCURRENCY: usize = 4;

/// How often a batch entry SQS reports as failed is sent again before giving up.
const SEND_ATTEMPTS: u32 = 5;

/// One run as the producer starts it.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub id: &'a RunId,
    pub started_at: time::OffsetDateTime,
    /// Who claims the run (Lambda's request id).
    pub invocation: &'a str,
    /// A canary run's companies: only these are queued, and each must be in the table.
    /// `None`: every company (a scheduled run).
    pub only: Option<&'a [String]>,
}

/// Where the producer reads and writes.
#[derive(Debug, Clone)]
pub struct Target {
    pub table: String,
    pub queue_url: String,
    pub bucket: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerReport {
    pub run_id: RunId,
    pub companies: usize,
    pub queued: usize,
    /// Another invocation had claimed this run (a repeated event): nothing was queued.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_claimed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    #[error("scanning table {table}: {source}")]
    Scan {
        table: String,
        source: Box<aws_sdk_dynamodb::Error>,
    },
    #[error("writing the run manifest to s3://{bucket}/{key}: {source}")]
    Manifest {
        bucket: String,
        key: String,
        source: Box<aws_sdk_s3::Error>,
    },
    #[error("sending messages to {queue_url}: {source}")]
    Send {
        queue_url: String,
        source: Box<aws_sdk_sqs::Error>,
    },
    #[error("{} of {total} messages could not be queued after {SEND_ATTEMPTS} attempts: {}", failed.len(), failed.join("; "))]
    Unsent { total: usize, failed: Vec<String> },
    #[error("not in table {table}: {}", missing.join(", "))]
    UnknownCompanies { table: String, missing: Vec<String> },
    #[error("companies can be chosen for a canary run only (run id {0})")]
    NotCanary(RunId),
}

/// Reads every company in the table, following DynamoDB's pagination (1 MB pages).
pub async fn scan_companies(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<String>, ProducerError> {
    Ok(scan_entries(ddb, table)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect())
}

/// Every company with its Wikipedia title, sorted by name.
pub async fn scan_entries(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<Company>, ProducerError> {
    let scan_err = |e: aws_sdk_dynamodb::Error| ProducerError::Scan {
        table: table.to_owned(),
        source: Box::new(e),
    };
    let mut pages = ddb
        .scan()
        .table_name(table)
        .projection_expression("#c, #w")
        .expression_attribute_names("#c", COMPANY_ATTRIBUTE)
        .expression_attribute_names("#w", WIKIPEDIA_ATTRIBUTE)
        .into_paginator()
        .send();
    let mut companies = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| scan_err(e.into()))?;
        companies.extend(page.items().iter().filter_map(|item| {
            let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            Some(Company {
                name: s(COMPANY_ATTRIBUTE)?,
                wikipedia: s(WIKIPEDIA_ATTRIBUTE).filter(|t| !t.is_empty()),
            })
        }));
    }
    companies.sort();
    Ok(companies)
}

/// One run: scan, claim the run, queue every company. Nothing is silently dropped:
/// entries SQS rejects are retried, and any left over fail the run (and Lambda retries
/// the invocation, which finds its own claim and queues again; results are idempotent).
///
/// The claim is the run manifest, written only if absent (S3's `If-None-Match: *`:
/// 412 when it exists, 409 when another write of it is under way). An invocation that
/// finds a claim made by another (`claimed_by`: Lambda's request id) queues nothing,
/// so an event delivered twice runs once.
///
/// A canary run (`run.only`) queues only its companies; one missing from the table
/// fails the invocation rather than proving nothing.
pub async fn produce(
    ddb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    s3: &aws_sdk_s3::Client,
    target: &Target,
    run: Run<'_>,
) -> Result<ProducerReport, ProducerError> {
    let Run {
        id: run_id,
        started_at,
        invocation,
        only,
    } = run;
    let mut companies = scan_entries(ddb, &target.table).await?;
    if let Some(only) = only {
        companies = select(companies, only, run_id, &target.table)?;
    }
    let manifest = RunManifest {
        run_id: run_id.clone(),
        companies: companies.len(),
        started_at: fang_shared::rfc3339(started_at),
        claimed_by: Some(invocation.to_owned()),
    };
    if !claim(s3, target, &manifest, invocation).await? {
        tracing::info!(run_id = %run_id, "run already claimed by another invocation; nothing queued");
        return Ok(ProducerReport {
            run_id: run_id.clone(),
            companies: companies.len(),
            queued: 0,
            already_claimed: true,
        });
    }
    // A few batches in flight at once: sending is latency-bound.
    let queued: usize = futures::stream::iter(batches(&companies, run_id))
        .map(|batch| send_batch(sqs, &target.queue_url, batch))
        .buffer_unordered(SEND_CONCURRENCY)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await?;
    let report = ProducerReport {
        run_id: run_id.clone(),
        companies: companies.len(),
        queued,
        already_claimed: false,
    };
    tracing::info!(
        run_id = %report.run_id,
        companies = report.companies,
        queued = report.queued,
        "run queued"
    );
    Ok(report)
}

/// The companies of a canary run, as the table has them.
fn select(
    companies: Vec<Company>,
    only: &[String],
    run_id: &RunId,
    table: &str,
) -> Result<Vec<Company>, ProducerError> {
    if !run_id.is_canary() {
        // A partial run under `results/` would pass for a scheduled one.
        return Err(ProducerError::NotCanary(run_id.clone()));
    }
    let missing: Vec<String> = only
        .iter()
        .filter(|name| !companies.iter().any(|c| &c.name == *name))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(ProducerError::UnknownCompanies {
            table: table.to_owned(),
            missing,
        });
    }
    Ok(companies
        .into_iter()
        .filter(|c| only.contains(&c.name))
        .collect())
}

/// Turns on the actions of the stack's no-results alarm: fangops writes it disarmed on a
/// stack that has never run (missing data is what it fires on, and a new stack has
/// none), and a run starting is what makes silence news. Idempotent and best effort:
/// a failure is logged, never a failed run.
pub async fn arm_alarm(cw: &aws_sdk_cloudwatch::Client, alarm: &str) {
    if let Err(e) = cw.enable_alarm_actions().alarm_names(alarm).send().await {
        tracing::warn!(alarm, error = %aws_sdk_cloudwatch::Error::from(e), "could not arm the alarm");
    }
}

/// Writes the manifest if no one has: true when this invocation holds the run (it wrote
/// the claim now, or did before and is being retried).
async fn claim(
    s3: &aws_sdk_s3::Client,
    target: &Target,
    manifest: &RunManifest,
    invocation: &str,
) -> Result<bool, ProducerError> {
    let key = keys::manifest_key(&manifest.run_id);
    let manifest_err = |e: aws_sdk_s3::Error| ProducerError::Manifest {
        bucket: target.bucket.clone(),
        key: key.clone(),
        source: Box::new(e),
    };
    for attempt in 0..SEND_ATTEMPTS {
        let put = s3
            .put_object()
            .bucket(&target.bucket)
            .key(&key)
            .if_none_match("*")
            .content_type("application/json")
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(
                serde_json::to_vec(manifest)
                    .expect("a manifest serializes")
                    .into(),
            )
            .send()
            .await;
        let status = match &put {
            Ok(_) => return Ok(true),
            Err(e) => e.raw_response().map(|r| r.status().as_u16()),
        };
        match status {
            // Someone claimed it: was it this invocation, before a retry?
            Some(412) => {
                let existing = s3
                    .get_object()
                    .bucket(&target.bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| manifest_err(e.into()))?;
                let bytes = existing
                    .body
                    .collect()
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let theirs: Option<RunManifest> = serde_json::from_slice(&bytes).ok();
                return Ok(theirs.and_then(|m| m.claimed_by).as_deref() == Some(invocation));
            }
            // A write of the same key under way: look again in a moment.
            Some(409) if attempt + 1 < SEND_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            _ => return Err(manifest_err(put.expect_err("matched an error").into())),
        }
    }
    unreachable!("the last attempt returns")
}

/// Sends one batch, retrying the entries SQS reports as failed with backoff.
async fn send_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    mut pending: Vec<Entry>,
) -> Result<usize, ProducerError> {
    let total = pending.len();
    let mut reasons = Vec::new();
    for attempt in 0..SEND_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let entries: Vec<SendMessageBatchRequestEntry> = pending
            .iter()
            .map(|e| {
                SendMessageBatchRequestEntry::builder()
                    .id(&e.id)
                    .message_body(&e.body)
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let out = sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| ProducerError::Send {
                queue_url: queue_url.to_owned(),
                source: Box::new(e.into()),
            })?;
        let failed: Vec<&aws_sdk_sqs::types::BatchResultErrorEntry> = out.failed().iter().collect();
        if failed.is_empty() {
            return Ok(total);
        }
        reasons = failed
            .iter()
            .map(|f| format!("{}: {}", f.id(), f.message().unwrap_or(f.code())))
            .collect();
        tracing::warn!(
            failed = failed.len(),
            attempt,
            "SQS rejected some entries; retrying them"
        );
        let retry: std::collections::HashSet<&str> = failed.iter().map(|f| f.id()).collect();
        pending.retain(|e| retry.contains(e.id.as_str()));
    }
    Err(ProducerError::Unsent {
        total,
        failed: reasons,
    })
}

/// One SendMessageBatch entry: an id unique within its batch, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub body: String,
}

/// Splits the companies of a run into SendMessageBatch calls of at most 10 entries.
pub fn batches(companies: &[Company], run_id: &RunId) -> Vec<Vec<Entry>> {
    let entries: Vec<Entry> = companies
        .iter()
        .enumerate()
        .map(|(i, company)| Entry {
            id: format!("m{i}"),
            body: CompanyMessage {
                company: company.name.clone(),
                run_id: run_id.clone(),
                wikipedia: company.wikipedia.clone(),
            }
            .to_body(),
        })
        .collect();
    entries
        .chunks(SQS_BATCH_MAX)
        .map(<[Entry]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_of_ten_cover_every_company_once() {
        let names: Vec<String> = (0..23).map(|i| format!("Company {i}")).collect();
        let companies: Vec<Company> = names
            .iter()
            .map(|n| Company {
                name: n.clone(),
                wikipedia: (n == "Company 7").then(|| "Company Seven Inc.".to_owned()),
            })
            .collect();
        let run = RunId::new("r1").unwrap();
        let batches = batches(&companies, &run);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 3]
        );
        let messages: Vec<CompanyMessage> = batches
            .iter()
            .flatten()
            .map(|e| CompanyMessage::from_body(&e.body).unwrap())
            .collect();
        let got: Vec<&str> = messages.iter().map(|m| m.company.as_str()).collect();
        assert_eq!(got, names);
        assert_eq!(messages[7].page(), "Company Seven Inc.");
        assert_eq!(messages[8].page(), "Company 8");
        let ids: std::collections::HashSet<_> = batches.iter().flatten().map(|e| &e.id).collect();
        assert_eq!(ids.len(), 23);
    }

    #[test]
    fn a_canary_run_queues_only_its_companies() {
        let table = ["Apple", "Netflix", "Nvidia"].map(|n| Company {
            name: n.to_owned(),
            wikipedia: None,
        });
        let t = time::macros::datetime!(2026-11-30 06:00:00 UTC);
        let canary = RunId::canary(t, 7);
        let picked = select(table.to_vec(), &["Netflix".to_owned()], &canary, "t").unwrap();
        assert_eq!(picked, [table[1].clone()]);
        let err = select(table.to_vec(), &["Spotify".to_owned()], &canary, "t").unwrap_err();
        assert_eq!(err.to_string(), "not in table t: Spotify");
        let scheduled = RunId::generate(t, 7);
        assert!(matches!(
            select(table.to_vec(), &["Apple".to_owned()], &scheduled, "t"),
            Err(ProducerError::NotCanary(_))
        ));
    }

    #[test]
    fn no_companies_no_batches() {
        assert!(batches(&[], &RunId::new("r1").unwrap()).is_empty());
    }
}
