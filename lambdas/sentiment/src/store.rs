//! Results in S3: one JSON object per company and run, and the run's `summary.csv`,
//! written (server-side encrypted) once every company of the run has a result.

use aws_sdk_s3::types::ServerSideEncryption;
use fang_shared::{RunId, RunManifest, SentimentRecord, keys, summary};
use futures::{StreamExt, TryStreamExt};

/// How many objects are read at once when assembling a summary.
const READ_CONCURRENCY: usize = 16;

/// Why a result, manifest or summary could not be read or written. Each names the
/// object: the handler reports it per company, `fangops` with its own context.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {key}: {source}")]
    S3 {
        action: &'static str,
        key: String,
        source: Box<aws_sdk_s3::Error>,
    },
    #[error("reading {key}: {message}")]
    Body { key: String, message: String },
    #[error("{key} is not a {what}: {source}")]
    Malformed {
        key: String,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{0} vanished while the run was read")]
    Vanished(String),
}

fn s3_error(action: &'static str, key: &str, e: impl Into<aws_sdk_s3::Error>) -> StoreError {
    StoreError::S3 {
        action,
        key: key.to_owned(),
        source: Box::new(e.into()),
    }
}

pub async fn put_json(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<(), StoreError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(body.into())
        .send()
        .await
        .map_err(|e| s3_error("writing", key, e))?;
    Ok(())
}

/// Writes one result and returns its size. Idempotent: a redelivered message
/// overwrites the same key, so a company is never counted twice.
pub async fn put_record(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    record: &SentimentRecord,
) -> Result<usize, StoreError> {
    let key = keys::result_key(&record.run_id, &record.company);
    let body = serde_json::to_vec_pretty(record).expect("a record serializes");
    let len = body.len();
    put_json(s3, bucket, &key, body, "application/json").await?;
    Ok(len)
}

pub(crate) async fn get_bytes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let body = out.body.collect().await.map_err(|e| StoreError::Body {
                key: key.to_owned(),
                message: e.to_string(),
            })?;
            Ok(Some(body.to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(s3_error("reading", key, e)),
    }
}

pub async fn get_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Option<RunManifest>, StoreError> {
    let key = keys::manifest_key(run_id);
    match get_bytes(s3, bucket, &key).await? {
        None => Ok(None),
        Some(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Malformed {
                    key,
                    what: "run manifest",
                    source,
                })
        }
    }
}

/// Every key under a prefix, following pagination.
pub async fn list_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error("listing", prefix, e))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    Ok(keys)
}

/// The keys of a run's result objects (not its manifest or summary).
pub async fn result_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Vec<String>, StoreError> {
    let mut found = list_keys(s3, bucket, &keys::run_prefix(run_id)).await?;
    found.retain(|k| keys::is_result_key(k));
    Ok(found)
}

/// The canary failure notes at `keys` (`keys::failure_key`); one gone since the listing
/// is skipped, one unreadable is an error.
pub async fn get_failure_notes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[String],
) -> Result<Vec<fang_shared::FailureNote>, StoreError> {
    let mut notes = Vec::new();
    for key in keys {
        if let Some(bytes) = get_bytes(s3, bucket, key).await? {
            notes.push(
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Malformed {
                    key: key.clone(),
                    what: "canary failure note",
                    source,
                })?,
            );
        }
    }
    Ok(notes)
}

/// Every result of a run, sorted by company.
pub async fn load_records(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Vec<SentimentRecord>, StoreError> {
    let keys = result_keys(s3, bucket, run_id).await?;
    read_records(s3, bucket, keys).await
}

async fn read_records(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: Vec<String>,
) -> Result<Vec<SentimentRecord>, StoreError> {
    let mut records: Vec<SentimentRecord> = futures::stream::iter(keys)
        .map(|key| async move {
            let bytes = get_bytes(s3, bucket, &key)
                .await?
                .ok_or_else(|| StoreError::Vanished(key.clone()))?;
            serde_json::from_slice::<SentimentRecord>(&bytes).map_err(|source| {
                StoreError::Malformed {
                    key,
                    what: "result record",
                    source,
                }
            })
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    records.sort_by(|a, b| a.company.cmp(&b.company));
    Ok(records)
}

/// Writes the run's summary if every company of the run has a result. Safe to call
/// from every batch: the summary is derived from the results alone, so concurrent
/// writers write the same bytes. Returns the number of rows written, if written.
pub async fn maybe_write_summary(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Option<usize>, StoreError> {
    let Some(manifest) = get_manifest(s3, bucket, run_id).await? else {
        return Ok(None);
    };
    let keys = result_keys(s3, bucket, run_id).await?;
    if keys.len() < manifest.companies {
        return Ok(None);
    }
    // The listing just made is the one the summary is built from: no second listing.
    let records = read_records(s3, bucket, keys).await?;
    put_summary(s3, bucket, run_id, &records).await.map(Some)
}

/// Writes `summary.csv` from whatever results the run has, and returns them.
pub async fn write_summary(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Vec<SentimentRecord>, StoreError> {
    let records = load_records(s3, bucket, run_id).await?;
    put_summary(s3, bucket, run_id, &records).await?;
    Ok(records)
}

/// The run's `summary.csv`, once written.
pub async fn get_summary(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
) -> Result<Option<String>, StoreError> {
    let key = keys::summary_key(run_id);
    Ok(get_bytes(s3, bucket, &key)
        .await?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

async fn put_summary(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    run_id: &RunId,
    records: &[SentimentRecord],
) -> Result<usize, StoreError> {
    let csv = summary::to_csv(records);
    put_json(
        s3,
        bucket,
        &keys::summary_key(run_id),
        csv.into_bytes(),
        "text/csv; charset=utf-8",
    )
    .await?;
    Ok(records.len())
}
