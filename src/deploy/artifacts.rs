//! The Lambda zips in S3: one artifact bucket per account and region, which fangops
//! creates locked down (encrypted, public access blocked, TLS only), and zips stored
//! under their sha256, so an artifact already there is never uploaded again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumAlgorithm, ChecksumMode, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use serde::{Deserialize, Serialize};

use crate::build::{self, BuildRequest, FUNCTIONS, elf, sha256_hex};
use crate::config::Arch;
use crate::diagnostics::{Diagnostic, InvalidInput};

/// The bucket fangops keeps the zips of every stack of one account and region in.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("fangops-artifacts-{account}-{region}")
}

/// The artifact bucket a command reads: `--artifact-bucket`, else the one of the
/// credentials' account and the env's region.
pub async fn bucket_of(
    ctx: &crate::aws::AwsContext,
    given: Option<&str>,
) -> anyhow::Result<String> {
    Ok(match given {
        Some(b) => b.to_owned(),
        None => bucket_name(&ctx.identity().await?.account, ctx.region()),
    })
}

/// Where a deploy's zip came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `--artifacts DIR`, as `fangops build` wrote it.
    Dir,
    /// Built by this run: the bucket's index had no build of its source fingerprint.
    Built,
    /// An earlier build of the same source fingerprint, found in the bucket's index.
    Reused,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Dir => "from the artifacts dir",
            Self::Built => "built",
            Self::Reused => "reused",
        })
    }
}

/// One function's zip.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub function: String,
    /// The zip on disk (none for a reused one: it is only in the bucket).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    pub size: u64,
    pub sha256: String,
    /// Its key in the artifact bucket.
    pub key: String,
    /// The source fingerprint it was built from (unknown for `--artifacts DIR`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub origin: Origin,
    /// Whether this deploy uploaded it (false: it was already there).
    pub uploaded: bool,
    #[serde(skip)]
    pub(crate) bytes: Vec<u8>,
}

pub fn artifact_key(sha256: &str) -> String {
    format!("artifacts/{sha256}.zip")
}

/// The zip of one function, read from disk and checked: a `bootstrap` Lambda can start
/// on `arch` (`crate::build::elf`). A zip that fails is bad input: nothing is written.
pub fn read_zip(function: &str, path: &Path, arch: Arch, origin: Origin) -> Result<Artifact> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading artifact {}", path.display()))?;
    if !bytes.starts_with(b"PK") {
        return Err(invalid(path, "is not a zip file".to_owned()).into());
    }
    elf::check_zip(&bytes, arch).map_err(|e| invalid(path, e.to_string()))?;
    let sha256 = sha256_hex(&bytes);
    Ok(Artifact {
        function: function.to_owned(),
        path: Some(path.to_path_buf()),
        size: bytes.len() as u64,
        key: artifact_key(&sha256),
        sha256,
        fingerprint: None,
        origin,
        uploaded: false,
        bytes,
    })
}

fn invalid(path: &Path, message: String) -> InvalidInput {
    InvalidInput(vec![Diagnostic::whole_file(path, message)])
}

/// Reads `DIR/producer.zip` and `DIR/sentiment.zip`, as `fangops build` writes them,
/// each checked for `arch`.
pub fn read_dir(dir: &Path, arch: Arch) -> Result<Vec<Artifact>> {
    FUNCTIONS
        .iter()
        .map(|(function, _)| {
            let path = dir.join(format!("{function}.zip"));
            if !path.exists() {
                bail!(
                    "reading artifact {}: no such file; build it with `fangops build --arch {arch} --out {}`",
                    path.display(),
                    dir.display()
                );
            }
            read_zip(function, &path, arch, Origin::Dir)
        })
        .collect()
}

/// The bucket's index: for each source fingerprint, the zip first built from it (and
/// checked). Every later deploy of the same sources takes that zip, so prod runs the
/// bytes dev ran, and a company-only change runs no compiler.
pub fn index_key(fingerprint: &str) -> String {
    format!("index/{fingerprint}.json")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub function: String,
    pub fingerprint: String,
    pub sha256: String,
    pub key: String,
    pub size: u64,
    /// How it was built: target, profile, toolchain, builder.
    pub target: String,
    pub profile: String,
    pub toolchain: String,
    pub builder: String,
    pub built_at: String,
}

/// Why S3 answered 403, from what its message says. In the bucket's own account S3
/// words a denial by its cause ("... with an explicit deny in a resource-based policy",
/// "... because no identity-based policy allows the s3:GetObject action":
/// "Troubleshoot access denied (403 Forbidden) errors", S3 User Guide); a bare "Access
/// Denied", or a HEAD's answer without a body, may be a missing key read without
/// s3:ListBucket.
fn forbidden_hint(bucket: &str, said: &str) -> String {
    if said.contains("explicit deny in a resource-based policy") {
        format!(
            "the bucket policy of {bucket} denies it (the one fangops writes denies requests without TLS: is the endpoint https?)"
        )
    } else if said.contains("explicit deny") {
        "a policy denies it explicitly (a service control policy, a permissions boundary or the role's own)".to_owned()
    } else if said.contains("no identity-based policy allows") {
        "the credentials' policies do not grant it (see `fangops iam`)".to_owned()
    } else {
        format!(
            "S3 answers a missing key with 403 when the credentials lack s3:ListBucket on {bucket}; grant it (see `fangops iam`)"
        )
    }
}

/// A JSON object of the artifact bucket: None when there is no such key (or no bucket
/// yet), or when it does not read as a `T` (said in a warning); a 403 says why S3 may
/// have answered it.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<T>> {
    let Some(body) = get_bytes(s3, bucket, key).await? else {
        return Ok(None);
    };
    match serde_json::from_slice(&body) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            tracing::warn!("ignoring unreadable s3://{bucket}/{key}: {e}");
            Ok(None)
        }
    }
}

/// A text object (a recorded template), `None` when absent.
pub async fn get_text(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<String>> {
    get_bytes(s3, bucket, key)
        .await?
        .map(|b| String::from_utf8(b).with_context(|| format!("s3://{bucket}/{key} is not UTF-8")))
        .transpose()
}

async fn get_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
    let body = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out
            .body
            .collect()
            .await
            .with_context(|| format!("reading s3://{bucket}/{key}"))?
            .to_vec(),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let e = crate::aws::error(e);
            return match (status, e.code()) {
                (Some(404), _) | (_, Some("NoSuchKey" | "NoSuchBucket")) => Ok(None),
                (Some(403), _) => {
                    let hint = forbidden_hint(bucket, &e.to_string());
                    Err(e).with_context(|| format!("reading s3://{bucket}/{key}: {hint}"))
                }
                _ => Err(e).with_context(|| format!("reading s3://{bucket}/{key}")),
            };
        }
    };
    Ok(Some(body))
}

/// The index entry of `fingerprint`, when there is one and its zip is still there.
pub async fn lookup(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    fingerprint: &str,
) -> Result<Option<IndexEntry>> {
    let key = index_key(fingerprint);
    let Some(entry) = get_json::<IndexEntry>(s3, bucket, &key).await? else {
        // No entry, or no bucket yet (the first deploy of the account).
        return Ok(None);
    };
    if entry.fingerprint != fingerprint || entry.key != artifact_key(&entry.sha256) {
        tracing::warn!("ignoring index entry s3://{bucket}/{key}: it names another artifact");
        return Ok(None);
    }
    // The zip may have been removed (a lifecycle rule, a hand), or replaced by other
    // bytes under the same name: then build again.
    match verify(s3, bucket, &entry.key, &entry.sha256).await? {
        Stored::Matches => Ok(Some(entry)),
        Stored::Missing => {
            tracing::warn!(
                "s3://{bucket}/{key} names {}, which is gone; building again",
                entry.key
            );
            Ok(None)
        }
        Stored::Differs => {
            tracing::warn!(
                "s3://{bucket}/{} does not hold the bytes its name promises (S3's SHA-256 checksum differs or is absent); building again",
                entry.key
            );
            Ok(None)
        }
    }
}

/// What S3 holds under an artifact's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Missing,
    /// S3's own SHA-256 checksum of the object (computed when it was uploaded with
    /// one) is the sha256 the key names.
    Matches,
    /// Another checksum, or none: bytes nobody can vouch for.
    Differs,
}

/// The sha256 as S3 carries it in `x-amz-checksum-sha256`: the digest in base64.
fn s3_checksum(sha256_hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..sha256_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(sha256_hex.get(i..i + 2)?, 16).ok())
        .collect();
    bytes
        .filter(|b| b.len() == 32)
        .map(aws_smithy_types::base64::encode)
}

/// HeadObject with checksums: whether `key` holds exactly the bytes of `sha256`. A 403
/// is an error that says why S3 may have answered it (s3:ListBucket).
async fn verify(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, sha256: &str) -> Result<Stored> {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await;
    match head {
        Ok(out) => {
            let expected = s3_checksum(sha256);
            Ok(
                if expected.is_some() && out.checksum_sha256() == expected.as_deref() {
                    Stored::Matches
                } else {
                    Stored::Differs
                },
            )
        }
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => Ok(Stored::Missing),
            // A HEAD's answer has no body to say why.
            Some(403) => Err(crate::aws::error(e)).with_context(|| {
                format!(
                    "checking s3://{bucket}/{key}: {}",
                    forbidden_hint(bucket, "")
                )
            }),
            _ => Err(crate::aws::error(e)).with_context(|| format!("checking s3://{bucket}/{key}")),
        },
    }
}

/// How long the index write keeps retrying while another run writes the same entry.
const INDEX_CONFLICT_RETRY: Duration = Duration::from_secs(20);

/// Writes the index entries of the artifacts this run built (after their upload).
pub async fn record_index(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    entries: &[IndexEntry],
) -> Result<()> {
    for entry in entries {
        let key = index_key(&entry.fingerprint);
        let body = serde_json::to_vec_pretty(entry).context("serializing an index entry")?;
        write_index_entry(s3, bucket, &key, body).await?;
    }
    Ok(())
}

/// The first build of a fingerprint stays its entry: a later run never replaces what
/// earlier deploys (and promotion) relied on. So the write is conditional
/// (`If-None-Match: *`): 412 PreconditionFailed means another run wrote it first. S3
/// answers 409 ConditionalRequestConflict while another conditional write of the key is
/// under way, and its PutObject reference says to retry: the retry then finds that
/// write's entry (412) or, if it failed, writes this one.
async fn write_index_entry(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<()> {
    let mut backoff = crate::retry::Backoff::new(Instant::now() + INDEX_CONFLICT_RETRY);
    loop {
        let put = s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(body.clone().into())
            .send()
            .await;
        let Err(e) = put else { return Ok(()) };
        let e = crate::aws::error(e);
        match e.code() {
            Some("PreconditionFailed") => {
                tracing::debug!("s3://{bucket}/{key} was written first by another run");
                return Ok(());
            }
            Some("ConditionalRequestConflict") if backoff.wait().await => {
                tracing::debug!("s3://{bucket}/{key} is being written by another run: again");
            }
            _ => {
                return Err(e).with_context(|| {
                    format!("writing the artifact index entry s3://{bucket}/{key}")
                });
            }
        }
    }
}

/// The zips of a deploy or plan that builds its own: each function's source
/// fingerprint is looked up in the bucket's index, and only the misses are built (and
/// checked). Returns the artifacts in `FUNCTIONS` order, and the index entries to write
/// once the built ones are uploaded.
pub async fn resolve(
    build_req: BuildRequest,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<(Vec<Artifact>, Vec<IndexEntry>)> {
    let arch = build_req.arch;
    let mut found: Vec<Option<Artifact>> = vec![None; FUNCTIONS.len()];
    // Index entries are written only for zips of this machine's own recipe.
    let mut own_fingerprinted = false;
    for (i, candidate) in reusable_recipes(arch).into_iter().enumerate() {
        let fingerprints = build::recipe(&build_req.root, arch, &build_req.profile, candidate)
            .and_then(|recipe| build::fingerprints(&build_req.root, &recipe));
        let fingerprints = match fingerprints {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("{e:#}; building every function, reusing none");
                break;
            }
        };
        reuse_indexed(s3, bucket, &fingerprints, &mut found).await?;
        if i == 0 {
            own_fingerprinted = true;
        }
    }
    let missing: Vec<String> = FUNCTIONS
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|((function, _), _)| (*function).to_owned())
        .collect();
    let mut index = Vec::new();
    if !missing.is_empty() {
        let req = BuildRequest {
            only: Some(missing),
            ..build_req
        };
        index = build_missing(&req, own_fingerprinted, &mut found)?;
    }
    found
        .into_iter()
        .zip(FUNCTIONS)
        .map(|(a, (function, _))| a.with_context(|| format!("no {function} artifact")))
        .collect::<Result<Vec<_>>>()
        .map(|a| (a, index))
}

/// The recipes whose zips this machine may take, best first: its own builder's; and
/// where that is not cargo-zigbuild, zigbuild's too (what CI makes: glibc-pinned), so
/// that a machine without the cross tools still reuses CI's zips. A zigbuild machine
/// never takes a native build's.
/// (A machine that cannot build at all looks up zigbuild's only.)
fn reusable_recipes(arch: Arch) -> Vec<Option<build::Builder>> {
    let own = build::detect_builder(arch).unwrap_or(build::Builder::Zigbuild);
    let mut recipes = vec![Some(own)];
    if own != build::Builder::Zigbuild {
        recipes.push(Some(build::Builder::Zigbuild));
    }
    recipes
}

/// Fills the functions not found yet with the zips the bucket's index has for their
/// `fingerprints` (looked up together).
async fn reuse_indexed(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    fingerprints: &[(String, String)],
    found: &mut [Option<Artifact>],
) -> Result<()> {
    let lookups = fingerprints
        .iter()
        .zip(found.iter())
        .map(|((_, f), have)| async move {
            match have {
                Some(_) => Ok(None),
                None => lookup(s3, bucket, f).await,
            }
        });
    let results = futures::future::join_all(lookups).await;
    for (slot, entry) in found.iter_mut().zip(results) {
        if let Some(e) = entry? {
            *slot = Some(Artifact {
                function: e.function,
                path: None,
                size: e.size,
                sha256: e.sha256,
                key: e.key,
                fingerprint: Some(e.fingerprint),
                origin: Origin::Reused,
                uploaded: false,
                bytes: Vec::new(),
            });
        }
    }
    Ok(())
}

/// Builds the functions `req` names into their slots of `found`; returns their index
/// entries (none unless `indexed`).
fn build_missing(
    req: &BuildRequest,
    indexed: bool,
    found: &mut [Option<Artifact>],
) -> Result<Vec<IndexEntry>> {
    let mut index = Vec::new();
    // cargo runs for minutes; keep the runtime's other tasks going meanwhile.
    let report = tokio::task::block_in_place(|| build::build(req))?;
    let built_at = now_rfc3339();
    for built in report.artifacts {
        let i = FUNCTIONS
            .iter()
            .position(|(f, _)| *f == built.function)
            .context("the build made an unknown function")?;
        let mut artifact = read_zip(&built.function, &built.path, req.arch, Origin::Built)?;
        artifact.fingerprint = (!built.fingerprint.is_empty()).then(|| built.fingerprint.clone());
        if indexed {
            index.push(IndexEntry {
                function: built.function.clone(),
                fingerprint: built.fingerprint,
                sha256: artifact.sha256.clone(),
                key: artifact.key.clone(),
                size: artifact.size,
                target: report.target.clone(),
                profile: report.profile.clone(),
                toolchain: report.toolchain.clone(),
                builder: report.builder.clone(),
                built_at: built_at.clone(),
            });
        }
        found[i] = Some(artifact);
    }
    Ok(index)
}

/// Now, as RFC 3339 to the millisecond with a fixed width, so that deploy records
/// (whose keys carry it) sort by time and two deploys in one second stay apart.
pub fn now_rfc3339_millis() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Now, as RFC 3339 to the second (what the records in the bucket carry).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Makes sure the artifact bucket exists and is ours. A new bucket is encrypted, has
/// every public access blocked and (unless `enforce_tls` is off, for a plain-http
/// emulator) denies requests without TLS.
pub async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
    account: &str,
    enforce_tls: bool,
) -> Result<()> {
    if bucket_is_ours(s3, bucket, account).await? {
        return Ok(());
    }
    tracing::info!("creating artifact bucket {bucket}");
    create_bucket(s3, bucket, region).await?;
    lock_down(s3, bucket, region, enforce_tls).await
}

/// HeadBucket with the expected owner: whether the bucket exists and is this
/// account's; refuses a bucket someone else owns (or that these credentials cannot see).
async fn bucket_is_ours(s3: &aws_sdk_s3::Client, bucket: &str, account: &str) -> Result<bool> {
    let head = s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(account)
        .send()
        .await;
    match head {
        Ok(_) => Ok(true),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => Ok(false),
            // 403 says only "not for you": another account's bucket, or this account's
            // with credentials that lack s3:ListBucket on it.
            Some(403) => bail!(
                "artifact bucket {bucket}: HeadBucket answered 403 Forbidden; either another account owns it (choose another name with --artifact-bucket) or these credentials lack s3:ListBucket on it (see `fangops iam`)"
            ),
            _ => Err(crate::aws::error(e))
                .with_context(|| format!("checking artifact bucket {bucket}")),
        },
    }
}

/// CreateBucket in `region`; a bucket this account created meanwhile is fine, one
/// another account holds is not.
async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> Result<()> {
    let mut create = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    if let Err(e) = create.send().await {
        let e = crate::aws::error(e);
        match e.code() {
            // Another fangops run created it a moment ago: fine.
            Some("BucketAlreadyOwnedByYou") => {}
            Some("BucketAlreadyExists") => bail!(
                "artifact bucket name {bucket} is taken by another AWS account; choose another with --artifact-bucket"
            ),
            _ => return Err(e).with_context(|| format!("creating artifact bucket {bucket}")),
        }
    }
    Ok(())
}

/// A new bucket encrypted, its public access blocked, and (with `enforce_tls`)
/// requests without TLS denied.
async fn lock_down(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
    enforce_tls: bool,
) -> Result<()> {
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()?,
                        )
                        .build(),
                )
                .build()?,
        )
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("turning on encryption of artifact bucket {bucket}"))?;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("blocking public access to artifact bucket {bucket}"))?;
    if enforce_tls {
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(tls_only_policy(bucket, region))
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("setting the TLS-only policy of artifact bucket {bucket}"))?;
    }
    Ok(())
}

fn tls_only_policy(bucket: &str, region: &str) -> String {
    let partition = crate::config::regions::partition(region);
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:{partition}:s3:::{bucket}"), format!("arn:{partition}:s3:::{bucket}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    })
    .to_string()
}

/// Uploads each artifact unless an object with its key (its hash) is already there.
pub async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    artifacts: &mut [Artifact],
) -> Result<()> {
    let uploads = artifacts.iter().map(|a| async move {
        // A reused zip was verified when it was looked up; one already there is kept
        // only when S3 vouches that it holds these very bytes, else it is replaced.
        if a.origin == Origin::Reused
            || verify(s3, bucket, &a.key, &a.sha256).await? == Stored::Matches
        {
            return Ok(false);
        }
        let mut put = s3
            .put_object()
            .bucket(bucket)
            .key(&a.key)
            .content_type("application/zip")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .metadata("sha256", &a.sha256);
        // S3 checks the body against it (400 BadDigest otherwise) and keeps it, so
        // every later reader can verify the object without downloading it.
        if let Some(checksum) = s3_checksum(&a.sha256) {
            put = put
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(checksum);
        }
        put.body(a.bytes.clone().into())
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| {
                format!(
                    "uploading the {} zip to s3://{bucket}/{}",
                    a.function, a.key
                )
            })?;
        Ok::<_, anyhow::Error>(true)
    });
    let results = futures::future::join_all(uploads).await;
    for (artifact, result) in artifacts.iter_mut().zip(results) {
        artifact.uploaded = result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_checksums_are_the_digest_in_base64() {
        // The SHA-256 of "hello", as `x-amz-checksum-sha256` carries it.
        let hex = sha256_hex(b"hello");
        assert_eq!(
            s3_checksum(&hex).as_deref(),
            Some("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        );
        assert_eq!(s3_checksum("not hex"), None);
        assert_eq!(s3_checksum("abcd"), None);
    }

    #[test]
    fn bucket_name_fits_every_region() {
        let longest_region = "ap-southeast-5"; // 14 characters, the longest today
        assert!(bucket_name("123456789012", longest_region).len() <= 63);
    }

    fn zip_of(arch: Arch, glibc: &[&str]) -> Vec<u8> {
        crate::build::package_bootstrap(&elf::sample(arch, glibc)).unwrap()
    }

    #[test]
    fn read_dir_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_dir(dir.path(), Arch::Arm64).unwrap_err().to_string();
        assert!(
            err.contains("producer.zip") && err.contains("--arch arm64"),
            "{err}"
        );
        std::fs::write(dir.path().join("producer.zip"), b"not a zip").unwrap();
        std::fs::write(dir.path().join("sentiment.zip"), b"PK\x05\x06").unwrap();
        let err = read_dir(dir.path(), Arch::Arm64).unwrap_err();
        assert!(
            err.downcast_ref::<InvalidInput>().is_some(),
            "bad input exits 2"
        );
        assert!(err.to_string().contains("not a zip"), "{err}");
    }

    #[test]
    fn zips_for_another_machine_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["producer", "sentiment"] {
            std::fs::write(
                dir.path().join(format!("{f}.zip")),
                zip_of(Arch::Arm64, &[]),
            )
            .unwrap();
        }
        assert!(read_dir(dir.path(), Arch::Arm64).is_ok());
        let err = read_dir(dir.path(), Arch::X86_64).unwrap_err().to_string();
        assert!(
            err.contains("producer.zip")
                && err.contains("built for arm64")
                && err.contains("runs on x86_64"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("sentiment.zip"),
            zip_of(Arch::Arm64, &["GLIBC_2.38"]),
        )
        .unwrap();
        let err = read_dir(dir.path(), Arch::Arm64).unwrap_err().to_string();
        assert!(
            err.contains("sentiment.zip") && err.contains("needs glibc 2.38"),
            "{err}"
        );
    }

    #[test]
    fn keys_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (
            zip_of(Arch::Arm64, &[]),
            zip_of(Arch::Arm64, &["GLIBC_2.17"]),
        );
        std::fs::write(dir.path().join("producer.zip"), &one).unwrap();
        std::fs::write(dir.path().join("sentiment.zip"), &two).unwrap();
        let a = read_dir(dir.path(), Arch::Arm64).unwrap();
        assert_eq!(a[0].key, format!("artifacts/{}.zip", sha256_hex(&one)));
        assert_ne!(a[0].key, a[1].key);
    }
}
