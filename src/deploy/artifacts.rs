//! The Lambda zips in S3: one artifact bucket per account and region, which fangops
//! creates locked down (encrypted, public access blocked, TLS only), and zips stored
//! under their sha256, so an artifact already there is never uploaded again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use serde::Serialize;

use crate::build::{FUNCTIONS, sha256_hex};

/// The bucket fangops keeps the zips of every stack of one account and region in.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("fangops-artifacts-{account}-{region}")
}

/// One function's zip, read from disk.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub function: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// Its key in the artifact bucket.
    pub key: String,
    /// Whether this deploy uploaded it (false: it was already there).
    pub uploaded: bool,
    #[serde(skip)]
    pub(crate) bytes: Vec<u8>,
}

/// Reads `DIR/producer.zip` and `DIR/sentiment.zip`, as `fangops build` writes them.
pub fn read_dir(dir: &Path) -> Result<Vec<Artifact>> {
    FUNCTIONS
        .iter()
        .map(|(function, _)| {
            let path = dir.join(format!("{function}.zip"));
            let bytes = std::fs::read(&path).with_context(|| {
                format!(
                    "reading artifact {}; build it with `fangops build --out {}`",
                    path.display(),
                    dir.display()
                )
            })?;
            if !bytes.starts_with(b"PK") {
                bail!("{} is not a zip file", path.display());
            }
            let sha256 = sha256_hex(&bytes);
            Ok(Artifact {
                function: (*function).to_owned(),
                path,
                size: bytes.len() as u64,
                key: format!("artifacts/{sha256}.zip"),
                sha256,
                uploaded: false,
                bytes,
            })
        })
        .collect()
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
    let head = s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(account)
        .send()
        .await;
    match head {
        Ok(_) => return Ok(()),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => {}
            Some(403) => bail!(
                "artifact bucket {bucket} exists but does not belong to account {account} (or these credentials may not use it); choose another name with --artifact-bucket"
            ),
            _ => {
                return Err(crate::aws::error(e))
                    .with_context(|| format!("checking artifact bucket {bucket}"));
            }
        },
    }
    tracing::info!("creating artifact bucket {bucket}");
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
        .with_context(|| format!("blocking public access to artifact bucket {bucket}"))?;
    if enforce_tls {
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(tls_only_policy(bucket, region))
            .send()
            .await
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
        let head = s3.head_object().bucket(bucket).key(&a.key).send().await;
        match head {
            Ok(_) => return Ok(false),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
            Err(e) => {
                return Err(crate::aws::error(e))
                    .with_context(|| format!("checking s3://{bucket}/{}", a.key));
            }
        }
        s3.put_object()
            .bucket(bucket)
            .key(&a.key)
            .content_type("application/zip")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .metadata("sha256", &a.sha256)
            .body(a.bytes.clone().into())
            .send()
            .await
            .with_context(|| {
                format!("uploading {} to s3://{bucket}/{}", a.path.display(), a.key)
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
    fn bucket_name_fits_every_region() {
        let longest_region = "ap-southeast-5"; // 14 characters, the longest today
        assert!(bucket_name("123456789012", longest_region).len() <= 63);
    }

    #[test]
    fn read_dir_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("producer.zip"), "{err}");
        std::fs::write(dir.path().join("producer.zip"), b"not a zip").unwrap();
        std::fs::write(dir.path().join("sentiment.zip"), b"PK\x05\x06").unwrap();
        let err = read_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a zip"), "{err}");
    }

    #[test]
    fn keys_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("producer.zip"), b"PK one").unwrap();
        std::fs::write(dir.path().join("sentiment.zip"), b"PK two").unwrap();
        let a = read_dir(dir.path()).unwrap();
        assert_eq!(a[0].key, format!("artifacts/{}.zip", sha256_hex(b"PK one")));
        assert_ne!(a[0].key, a[1].key);
    }
}
