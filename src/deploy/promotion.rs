//! Promotion: prod runs only bytes that ran somewhere else first.
//!
//! Every deploy leaves a record in the artifact bucket,
//! `deployments/<stack>/<time>.json` (what `fangops history` lists); a successful one
//! also `deployments/<stack>/latest.json`. A deploy of a non-protected env also marks each
//! of its artifacts as promoted: `promotions/<sha256>/<stack>.json`. A protected env
//! deploys an artifact only when such a mark exists, unless `--allow-unpromoted` is
//! given, which its report records.
//!
//! The bucket is per account and region: an env in another account (or region) sees
//! another bucket's marks. Point both at one bucket with `--artifact-bucket` when dev
//! and prod live apart.

use anyhow::{Context, Result};
use aws_sdk_s3::types::ServerSideEncryption;
use serde::{Deserialize, Serialize};

use super::artifacts::{self, Artifact};
use crate::diagnostics::{Diagnostic, InvalidInput};

/// What a deploy leaves behind (failed ones too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub env: String,
    pub stack: String,
    pub protected: bool,
    /// The commit deployed (`GITHUB_SHA` in Actions), when known.
    pub commit: Option<String>,
    /// `created`, `updated`, `unchanged` or `failed`.
    pub outcome: String,
    /// The stack's fingerprint (template and parameters).
    pub fingerprint: String,
    /// The template's sha256; the text is kept at `templates/<sha256>.yaml`.
    #[serde(default)]
    pub template_sha256: String,
    /// Every parameter the stack was given (the fingerprint aside).
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
    /// How many companies the env file listed.
    #[serde(default)]
    pub companies: usize,
    pub artifacts: Vec<RecordedArtifact>,
    /// When the deploy started and ended (RFC 3339).
    #[serde(default)]
    pub started_at: String,
    pub deployed_at: String,
    /// Deployed to a protected env without promotion (`--allow-unpromoted`).
    #[serde(default)]
    pub unpromoted: bool,
    /// The deploy's verification, once it ran (`deploy --verify`, `fangops verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<RecordedVerification>,
    /// A rollback's record: the `deployed_at` of the record it restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<String>,
    /// The pull request whose preview this deploy was (`deploy --preview N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<u64>,
    /// What failed after the stack went through (the sync, the alarms): the deploy
    /// failed, though the stack is what the record says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedVerification {
    pub passed: bool,
    /// The verification's one line ("verified in 38 s: 1 canary result, no alarms").
    pub summary: String,
    /// When it ended (RFC 3339).
    pub at: String,
}

impl Record {
    /// Whether the deploy went through and nothing says it does not work: a failed
    /// verification takes back what the deploy's success promised.
    pub fn good(&self) -> bool {
        self.outcome != "failed" && self.verification.as_ref().is_none_or(|v| v.passed)
    }

    /// Whether this mark lets a protected env take its zips: a non-protected env's, and
    /// a preview's once its verification passed (a preview is made by a pull request,
    /// and only a verified one says the zips work).
    pub fn promotes(&self) -> bool {
        !self.protected && (self.preview.is_none() || self.verified())
    }

    /// Whether a rollback may restore this record: it went through and verified.
    pub fn verified(&self) -> bool {
        self.outcome != "failed" && self.verification.as_ref().is_some_and(|v| v.passed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedArtifact {
    pub function: String,
    pub sha256: String,
    pub fingerprint: Option<String>,
}

impl RecordedArtifact {
    pub fn of(a: &Artifact) -> Self {
        Self {
            function: a.function.clone(),
            sha256: a.sha256.clone(),
            fingerprint: a.fingerprint.clone(),
        }
    }
}

/// One env that ran an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RanIn {
    pub env: String,
    pub stack: String,
    pub commit: Option<String>,
    pub deployed_at: String,
    /// That stack still runs it (its latest record has it).
    pub running: bool,
}

/// Where one artifact of a deploy or plan already ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promotion {
    pub function: String,
    pub sha256: String,
    pub ran_in: Vec<RanIn>,
}

impl Promotion {
    pub fn promoted(&self) -> bool {
        !self.ran_in.is_empty()
    }
}

/// The promotion of a protected env's deploy: each artifact, and whether the rule was
/// overridden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionReport {
    pub artifacts: Vec<Promotion>,
    /// `--allow-unpromoted` was given and some artifact had not run elsewhere.
    pub overridden: bool,
}

pub fn history_key(stack: &str, deployed_at: &str) -> String {
    // RFC 3339 with the colons taken out sorts by time and needs no escaping.
    format!("deployments/{stack}/{}.json", deployed_at.replace(':', ""))
}

pub fn latest_key(stack: &str) -> String {
    format!("deployments/{stack}/latest.json")
}

fn mark_key(sha256: &str, stack: &str) -> String {
    format!("promotions/{sha256}/{stack}.json")
}

const JSON: &str = "application/json";

async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(body.into())
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("writing s3://{bucket}/{key}"))?;
    Ok(())
}

/// Writes `key` only if no object has it yet (`If-None-Match: *`): for what a key
/// already names (a template by its hash) or what need not change (a zip's mark that a
/// no-op deploy would only rewrite). S3 answers 412 PreconditionFailed when the key
/// exists: nothing is written twice. It answers 409 ConditionalRequestConflict while
/// another write of the key is under way, which may still fail: the object is then
/// written as usual ("Preventing object overwrites with conditional writes", S3 User
/// Guide). Returns whether it wrote.
async fn put_new(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<bool> {
    let body_again = body.clone();
    let sent = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .if_none_match("*")
        .content_type(content_type)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(body.into())
        .send()
        .await;
    let e = match sent {
        Ok(_) => return Ok(true),
        Err(e) => crate::aws::error(e),
    };
    match e.code() {
        Some("PreconditionFailed") => {
            tracing::debug!("s3://{bucket}/{key} is already there: not written again");
            Ok(false)
        }
        Some("ConditionalRequestConflict") => {
            put(s3, bucket, key, content_type, body_again).await?;
            Ok(true)
        }
        _ => Err(e).with_context(|| format!("writing s3://{bucket}/{key}")),
    }
}

/// How many of a stack's records a failed verification looks through for an earlier
/// good deploy of the same zip.
const MARK_HISTORY: usize = 50;

/// The newest good deploy of the stack, other than `record`, that ran this zip.
fn earlier_good<'a>(earlier: &'a [Record], record: &Record, sha256: &str) -> Option<&'a Record> {
    earlier.iter().find(|r| {
        r.deployed_at != record.deployed_at
            && r.good()
            && r.artifacts.iter().any(|a| a.sha256 == sha256)
    })
}

async fn delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("deleting s3://{bucket}/{key}"))?;
    Ok(())
}

/// The records of a stack's deploys, newest first, at most `limit`, and how many older
/// ones were left out. A bucket that does not exist holds none.
pub async fn records(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    limit: usize,
) -> Result<(Vec<Record>, usize)> {
    let prefix = format!("deployments/{stack}/");
    let latest = latest_key(stack);
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .set_continuation_token(token.take())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                let e = crate::aws::error(e);
                if e.code() == Some("NoSuchBucket") {
                    break; // never deployed in this account and region
                }
                return Err(e).with_context(|| format!("listing s3://{bucket}/{prefix}"));
            }
        };
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| *k != latest)
                .map(str::to_owned),
        );
        match page.next_continuation_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    // Keys are the deploy's end time without colons: they sort by time.
    keys.sort_unstable_by(|a, b| b.cmp(a));
    let more = keys.len().saturating_sub(limit);
    keys.truncate(limit);
    let mut out = Vec::new();
    for key in keys {
        match artifacts::get_json::<Record>(s3, bucket, &key).await? {
            Some(record) => out.push(record),
            None => tracing::warn!("s3://{bucket}/{key} is not a deploy record; skipped"),
        }
    }
    Ok((out, more))
}

/// When the stack began to run what it runs: the start of the oldest deploy in the
/// newest unbroken line of records with the live fingerprint (an unchanged deploy
/// changed nothing; a failed one was undone by CloudFormation, so it is skipped).
/// `None` when the newest record that went through is not what the stack runs.
pub fn running_since<'a>(records: &'a [Record], live_fingerprint: &str) -> Option<&'a str> {
    let mut since = None;
    for r in records.iter().filter(|r| r.outcome != "failed") {
        if r.fingerprint != live_fingerprint {
            break;
        }
        since = Some(r.started_at.as_str());
    }
    since
}

/// Records a verification on the stack's latest record, when that record is what the
/// stack runs (`live_fingerprint`): written again with its verdict, which also takes
/// back (or gives) the promotion of its artifacts.
pub async fn record_verification(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    live_fingerprint: Option<&str>,
    verification: &crate::deploy::verdict::Verification,
) -> Result<()> {
    let Some(mut latest) = artifacts::get_json::<Record>(s3, bucket, &latest_key(stack)).await?
    else {
        return Ok(());
    };
    if Some(latest.fingerprint.as_str()) != live_fingerprint {
        tracing::info!(
            "the latest deploy record of {stack} is not what the stack runs; the verification is not recorded"
        );
        return Ok(());
    }
    latest.verification = Some(RecordedVerification::of(verification));
    // The deploy kept its template already.
    record(s3, bucket, &latest, None).await
}

impl RecordedVerification {
    pub fn of(v: &crate::deploy::verdict::Verification) -> Self {
        Self {
            passed: v.passed,
            summary: v.summary(),
            at: artifacts::now_rfc3339_millis(),
        }
    }
}

/// The key of a template's text, by its sha256.
pub fn template_key(sha256: &str) -> String {
    format!("templates/{sha256}.yaml")
}

/// Writes a deploy's record and the template it sent (none when the record is
/// rewritten with a verdict); for a successful deploy of a non-protected env, also the
/// marks that promote its artifacts.
pub async fn record(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    record: &Record,
    template: Option<&str>,
) -> Result<()> {
    if let Some(template) = template {
        // Content-addressed: a template sent before is already kept under its hash.
        put_new(
            s3,
            bucket,
            &template_key(&record.template_sha256),
            "application/yaml",
            template.as_bytes().to_vec(),
        )
        .await?;
    }
    let body = serde_json::to_vec_pretty(record).context("serializing the deploy record")?;
    put(
        s3,
        bucket,
        &history_key(&record.stack, &record.deployed_at),
        JSON,
        body.clone(),
    )
    .await?;
    if record.outcome == "failed" {
        // Neither promoted nor what the stack runs: `latest` stays the last good one.
        return Ok(());
    }
    if !record.protected {
        // A verification that failed takes back the promotion this deploy gave. A mark
        // is per zip and stack, so a zip an earlier good deploy of the stack ran (the
        // failure was the configuration) keeps that deploy's mark.
        let earlier = if record.good() {
            Vec::new()
        } else {
            records(s3, bucket, &record.stack, MARK_HISTORY).await?.0
        };
        for a in &record.artifacts {
            let key = mark_key(&a.sha256, &record.stack);
            if record.good() {
                // A mark says the zip ran here and works, and names the deploy that
                // last changed the stack with it. A deploy that changed nothing keeps
                // the mark there (a failed verification replaces or deletes it below);
                // a verdict is always written, since a preview's mark promotes only
                // once verified.
                if record.outcome == "unchanged" && record.verification.is_none() {
                    put_new(s3, bucket, &key, JSON, body.clone()).await?;
                } else {
                    put(s3, bucket, &key, JSON, body.clone()).await?;
                }
                continue;
            }
            match earlier_good(&earlier, record, &a.sha256) {
                Some(r) => {
                    let body = serde_json::to_vec_pretty(r).context("serializing a mark")?;
                    put(s3, bucket, &key, JSON, body).await?;
                }
                None => delete(s3, bucket, &key).await?,
            }
        }
    }
    // Last: a reader of `latest` finds the marks already there.
    put(s3, bucket, &latest_key(&record.stack), JSON, body).await
}

/// Where each artifact already ran: the marks non-protected deploys left.
pub async fn promotions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    artifacts: &[Artifact],
) -> Result<Vec<Promotion>> {
    let mut out = Vec::new();
    let mut latest: std::collections::BTreeMap<String, Option<Record>> = Default::default();
    for a in artifacts {
        let prefix = format!("promotions/{}/", a.sha256);
        let listed = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .send()
            .await;
        let keys: Vec<String> = match listed {
            Ok(page) => page
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect(),
            Err(e) => {
                let e = crate::aws::error(e);
                if e.code() == Some("NoSuchBucket") {
                    Vec::new()
                } else {
                    return Err(e).with_context(|| {
                        format!("listing s3://{bucket}/{prefix} (where promotions are marked)")
                    });
                }
            }
        };
        let mut ran_in = Vec::new();
        for key in keys {
            let Some(mark) = artifacts::get_json::<Record>(s3, bucket, &key).await? else {
                continue;
            };
            if !mark.promotes() {
                continue;
            }
            if !latest.contains_key(&mark.stack) {
                let l = artifacts::get_json::<Record>(s3, bucket, &latest_key(&mark.stack)).await?;
                latest.insert(mark.stack.clone(), l);
            }
            let running = latest
                .get(&mark.stack)
                .and_then(Option::as_ref)
                .is_some_and(|l| l.artifacts.iter().any(|x| x.sha256 == a.sha256));
            ran_in.push(RanIn {
                env: mark.env,
                stack: mark.stack,
                commit: mark.commit,
                deployed_at: mark.deployed_at,
                running,
            });
        }
        out.push(Promotion {
            function: a.function.clone(),
            sha256: a.sha256.clone(),
            ran_in,
        });
    }
    Ok(out)
}

/// The rule: a protected env takes only promoted artifacts, unless overridden.
pub fn check(
    env: &crate::config::EnvConfig,
    promotions: Vec<Promotion>,
    allow_unpromoted: bool,
) -> Result<PromotionReport, InvalidInput> {
    let missing: Vec<&Promotion> = promotions.iter().filter(|p| !p.promoted()).collect();
    if missing.is_empty() || allow_unpromoted {
        return Ok(PromotionReport {
            overridden: !missing.is_empty(),
            artifacts: promotions,
        });
    }
    let list = missing
        .iter()
        .map(|p| format!("{} (sha256 {})", p.function, p.sha256))
        .collect::<Vec<_>>()
        .join(", ");
    Err(InvalidInput(vec![
        Diagnostic::whole_file(
            &env.path,
            format!(
                "environment {} is protected: it deploys only artifacts a non-protected environment deployed first, and {list} ran nowhere yet. Deploy the same commit to dev first (its pull request does), or pass --allow-unpromoted",
                env.name
            ),
        )
        .with_key("protected"),
    ]))
}

/// A record of the dev stack deployed at `at` (its fingerprint too), for tests.
#[cfg(test)]
pub(crate) fn sample_record(at: &str, outcome: &str, passed: Option<bool>) -> Record {
    Record {
        env: "dev".into(),
        stack: "fang-dev".into(),
        protected: false,
        commit: None,
        outcome: outcome.into(),
        fingerprint: at.into(),
        template_sha256: "e".repeat(64),
        parameters: Default::default(),
        companies: 1,
        artifacts: Vec::new(),
        started_at: at.into(),
        deployed_at: at.into(),
        unpromoted: false,
        verification: passed.map(|passed| RecordedVerification {
            passed,
            summary: String::new(),
            at: at.into(),
        }),
        restores: None,
        preview: None,
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_runs_what_it_runs_since_the_deploy_that_made_it_so() {
        let rec = |at: &str, outcome: &str, fp: &str| Record {
            fingerprint: fp.into(),
            ..sample_record(at, outcome, None)
        };
        let records = vec![
            rec("5", "unchanged", "b"),
            rec("4", "failed", "c"),
            rec("3", "unchanged", "b"),
            rec("2", "updated", "b"),
            rec("1", "created", "a"),
        ];
        assert_eq!(running_since(&records, "b"), Some("2"));
        assert_eq!(running_since(&records, "a"), None, "b went through since");
        assert_eq!(running_since(&records[4..], "a"), Some("1"));
        assert_eq!(running_since(&[], "a"), None);
    }

    fn promotion(function: &str, ran_in: Vec<RanIn>) -> Promotion {
        Promotion {
            function: function.into(),
            sha256: function.repeat(64)[..64].to_owned(),
            ran_in,
        }
    }

    fn dev(running: bool) -> RanIn {
        RanIn {
            env: "dev".into(),
            stack: "fang-dev".into(),
            commit: Some("0123456789abcdef".into()),
            deployed_at: "2026-12-01T07:00:00Z".into(),
            running,
        }
    }

    fn prod() -> crate::config::EnvConfig {
        crate::config::parse(
            std::path::Path::new("environments/prod.yaml"),
            b"stack: fang-prod\nregion: us-east-1\nprotected: true\ncompanies: [A]\n",
        )
        .unwrap()
    }

    #[test]
    fn a_protected_env_takes_only_promoted_artifacts() {
        let ok = vec![
            promotion("p", vec![dev(true)]),
            promotion("s", vec![dev(false)]),
        ];
        let report = check(&prod(), ok, false).unwrap();
        assert!(!report.overridden);
        let err = check(
            &prod(),
            vec![promotion("p", vec![dev(true)]), promotion("s", vec![])],
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("environments/prod.yaml"), "{err}");
        assert!(err.contains("s (sha256 ssss"), "{err}");
        assert!(
            !err.contains("p (sha256"),
            "only the unpromoted one is named: {err}"
        );
        assert!(err.contains("--allow-unpromoted"), "{err}");
        let report = check(&prod(), vec![promotion("s", vec![])], true).unwrap();
        assert!(report.overridden);
    }

    #[test]
    fn promotion_markdown_snapshot() {
        let report = PromotionReport {
            artifacts: vec![
                promotion("producer", vec![dev(true)]),
                promotion("sentiment", vec![dev(false)]),
                promotion("other", vec![]),
            ],
            overridden: true,
        };
        insta::assert_snapshot!(report.render_markdown());
    }

    #[test]
    fn record_times_sort_as_text() {
        let a = crate::deploy::artifacts::now_rfc3339_millis();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let b = crate::deploy::artifacts::now_rfc3339_millis();
        assert_eq!(a.len(), "2026-12-01T07:00:00.000Z".len());
        assert!(a < b, "{a} {b}");
        assert!(
            time::OffsetDateTime::parse(&a, &time::format_description::well_known::Rfc3339).is_ok()
        );
    }

    #[test]
    fn a_previews_mark_promotes_once_it_verified() {
        let preview = |passed: Option<bool>| Record {
            preview: Some(12),
            ..sample_record("1", "created", passed)
        };
        assert!(!preview(None).promotes(), "deployed, not yet verified");
        assert!(!preview(Some(false)).promotes());
        assert!(preview(Some(true)).promotes());
        assert!(
            sample_record("1", "created", None).promotes(),
            "dev's, as before"
        );
        let protected = Record {
            protected: true,
            ..sample_record("1", "created", Some(true))
        };
        assert!(!protected.promotes());
    }

    #[test]
    fn a_failed_verification_keeps_the_mark_of_an_earlier_good_deploy_of_the_same_zip() {
        let rec = |at: &str, zip: &str, outcome: &str, passed: Option<bool>| Record {
            artifacts: vec![RecordedArtifact {
                function: "sentiment".into(),
                sha256: zip.into(),
                fingerprint: None,
            }],
            ..sample_record(at, outcome, passed)
        };
        let failed = rec("4", "z2", "updated", Some(false));
        let earlier = vec![
            failed.clone(),
            rec("3", "z2", "failed", None),
            rec("2", "z2", "updated", Some(false)),
            rec("1", "z2", "updated", Some(true)),
            rec("0", "z1", "created", None),
        ];
        assert_eq!(
            earlier_good(&earlier, &failed, "z2").map(|r| r.deployed_at.as_str()),
            Some("1"),
            "neither itself, a failed deploy nor a failed verification"
        );
        assert!(earlier_good(&earlier, &failed, "z3").is_none(), "a new zip");
        assert_eq!(
            earlier_good(&earlier, &failed, "z1").map(|r| r.deployed_at.as_str()),
            Some("0"),
            "a deploy that never verified is still good"
        );
    }

    #[test]
    fn history_keys_sort_by_time() {
        let a = history_key("fang-dev", "2026-12-01T07:00:00Z");
        let b = history_key("fang-dev", "2026-12-01T10:00:00Z");
        assert_eq!(a, "deployments/fang-dev/2026-12-01T070000Z.json");
        assert!(a < b);
    }
}
