//! `fangops history --env E`: the deploys of an environment, newest first, from the
//! records every deploy leaves in the artifact bucket (`deployments/<stack>/`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::{self, EnvRef};
use crate::deploy::artifacts;
use crate::deploy::promotion::{self, Record};
use crate::markdown::{Table, text, value};

#[derive(Debug, Clone)]
pub struct HistoryRequest {
    pub root: PathBuf,
    pub env: EnvRef,
    pub endpoint: Option<url::Url>,
    pub artifact_bucket: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub env: String,
    pub stack: String,
    pub artifact_bucket: String,
    /// Newest first.
    pub deploys: Vec<Record>,
    /// Older records left out by the limit.
    pub more: usize,
}

pub async fn run(req: &HistoryRequest) -> Result<HistoryReport> {
    let env = config::load(&req.env.path(&req.root))?;
    let ctx = AwsContext::new(&env, req.endpoint.as_ref()).await?;
    let account = ctx.identity().await?.account.clone();
    let bucket = req
        .artifact_bucket
        .clone()
        .unwrap_or_else(|| artifacts::bucket_name(&account, ctx.region()));
    let s3 = ctx.s3();
    let prefix = format!("deployments/{}/", env.stack);
    let latest = promotion::latest_key(&env.stack);
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&bucket)
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
    let more = keys.len().saturating_sub(req.limit);
    keys.truncate(req.limit);
    let mut deploys = Vec::new();
    for key in keys {
        match artifacts::get_json::<Record>(&s3, &bucket, &key).await? {
            Some(record) => deploys.push(record),
            None => tracing::warn!("s3://{bucket}/{key} is not a deploy record; skipped"),
        }
    }
    Ok(HistoryReport {
        env: env.name,
        stack: env.stack,
        artifact_bucket: bucket,
        deploys,
        more,
    })
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

fn duration(r: &Record) -> String {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(&r.started_at), parse(&r.deployed_at)) {
        (Some(a), Some(b)) => format!("{} s", (b - a).whole_seconds()),
        _ => String::new(),
    }
}

impl HistoryReport {
    pub fn render(&self) -> String {
        let mut out = format!(
            "Deploys of {} (stack {}), newest first, from s3://{}\n\n",
            self.env, self.stack, self.artifact_bucket
        );
        if self.deploys.is_empty() {
            out += "No deploys recorded yet.\n";
            return out;
        }
        let mut t = Table::new([
            "ended",
            "outcome",
            "commit",
            "producer",
            "sentiment",
            "companies",
            "took",
            "",
        ])
        .right(5)
        .right(6);
        for r in &self.deploys {
            let zip = |function: &str| {
                r.artifacts
                    .iter()
                    .find(|a| a.function == function)
                    .map_or(String::new(), |a| short(&a.sha256).to_owned())
            };
            let note = if r.unpromoted {
                "unpromoted (--allow-unpromoted)"
            } else {
                ""
            };
            t.row([
                text(&r.deployed_at),
                text(&r.outcome),
                r.commit.as_deref().map_or(text(""), |c| value(short(c))),
                value(zip("producer")),
                value(zip("sentiment")),
                text(r.companies.to_string()),
                text(duration(r)),
                text(note),
            ]);
        }
        out += &t.render();
        if self.more > 0 {
            out += &format!("\n{} older not shown (--limit).\n", self.more);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: &str, at: &str, commit: Option<&str>) -> Record {
        Record {
            env: "dev".into(),
            stack: "fang-dev".into(),
            protected: false,
            commit: commit.map(Into::into),
            outcome: outcome.into(),
            fingerprint: "f".repeat(64),
            template_sha256: "e".repeat(64),
            parameters: Default::default(),
            companies: 12,
            artifacts: vec![
                promotion::RecordedArtifact {
                    function: "producer".into(),
                    sha256: "ab".repeat(32),
                    fingerprint: None,
                },
                promotion::RecordedArtifact {
                    function: "sentiment".into(),
                    sha256: "cd".repeat(32),
                    fingerprint: None,
                },
            ],
            started_at: "2026-12-01T07:00:00Z".into(),
            deployed_at: at.into(),
            unpromoted: false,
        }
    }

    #[test]
    fn history_terminal_snapshot() {
        let report = HistoryReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            artifact_bucket: "fangops-artifacts-123456789012-us-east-1".into(),
            deploys: vec![
                record(
                    "failed",
                    "2026-12-01T07:03:10Z",
                    Some("9f8e7d6c5b4a39281706"),
                ),
                record(
                    "updated",
                    "2026-12-01T07:01:42Z",
                    Some("0123456789abcdef0123"),
                ),
                record("unchanged", "2026-12-01T07:00:01Z", None),
            ],
            more: 4,
        };
        insta::assert_snapshot!(crate::output::plain(&report.render()));
    }

    #[test]
    fn empty_history_says_so() {
        let report = HistoryReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            artifact_bucket: "b".into(),
            deploys: Vec::new(),
            more: 0,
        };
        assert!(report.render().ends_with("No deploys recorded yet.\n"));
    }
}
