//! `fangops history --env E`: the deploys of an environment, newest first, from the
//! records every deploy leaves in the artifact bucket (`deployments/<stack>/`).

use anyhow::Result;
use serde::Serialize;

use crate::deploy::artifacts;
use crate::deploy::promotion::{self, Record};
use crate::markdown::{Table, text, value};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct HistoryRequest {
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

pub async fn run(target: &Target, req: &HistoryRequest) -> Result<HistoryReport> {
    let env = &target.env;
    let ctx = target.aws().await?;
    let bucket = artifacts::bucket_of(ctx, req.artifact_bucket.as_deref()).await?;
    let (deploys, more) = promotion::records(&ctx.s3(), &bucket, &env.stack, req.limit).await?;
    Ok(HistoryReport {
        env: env.name.clone(),
        stack: env.stack.clone(),
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
            "n",
            "ended",
            "outcome",
            "commit",
            "producer",
            "sentiment",
            "companies",
            "took",
            "verification",
            "",
        ])
        .right(0)
        .right(6)
        .right(7);
        for (i, r) in self.deploys.iter().enumerate() {
            let zip = |function: &str| {
                r.artifacts
                    .iter()
                    .find(|a| a.function == function)
                    .map_or(String::new(), |a| short(&a.sha256).to_owned())
            };
            let mut notes = Vec::new();
            if let Some(restored) = &r.restores {
                notes.push(format!("rollback to the deploy of {restored}"));
            }
            if r.unpromoted {
                notes.push("unpromoted (--allow-unpromoted)".to_owned());
            }
            if !r.errors.is_empty() {
                notes.push("then failed, see below".to_owned());
            }
            let verification = match &r.verification {
                Some(v) if v.passed => "passed",
                Some(_) => "failed",
                None => "",
            };
            t.row([
                text((i + 1).to_string()),
                text(&r.deployed_at),
                text(&r.outcome),
                r.commit.as_deref().map_or(text(""), |c| value(short(c))),
                value(zip("producer")),
                value(zip("sentiment")),
                text(r.companies.to_string()),
                text(duration(r)),
                text(verification),
                text(notes.join("; ")),
            ]);
        }
        out += &t.render();
        if self.more > 0 {
            out += &format!("\n{} older not shown (--limit).\n", self.more);
        }
        // A failed verification's reason is the one thing a table cell cannot hold.
        for (i, r) in self.deploys.iter().enumerate() {
            for e in &r.errors {
                out += &format!("\n#{}: {e}\n", i + 1);
            }
            if let Some(v) = r.verification.as_ref().filter(|v| !v.passed) {
                out += &format!("\n#{}: {}\n", i + 1, v.summary);
            }
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
            verification: None,
            restores: None,
            preview: None,
            errors: Vec::new(),
        }
    }

    #[test]
    fn history_terminal_snapshot() {
        let report = HistoryReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            artifact_bucket: "fangops-artifacts-123456789012-us-east-1".into(),
            deploys: vec![
                Record {
                    restores: Some("2026-12-01T07:01:42Z".into()),
                    preview: None,
                    verification: Some(promotion::RecordedVerification {
                        passed: true,
                        summary: "verified in 12 s: 1 canary result, no alarms".into(),
                        at: "2026-12-01T07:05:30Z".into(),
                    }),
                    ..record(
                        "updated",
                        "2026-12-01T07:05:18Z",
                        Some("0123456789abcdef0123"),
                    )
                },
                Record {
                    verification: Some(promotion::RecordedVerification {
                        passed: false,
                        summary: "verification failed: canary run: Apple: connection refused"
                            .into(),
                        at: "2026-12-01T07:04:02Z".into(),
                    }),
                    ..record(
                        "updated",
                        "2026-12-01T07:03:40Z",
                        Some("5555555555abcdef0123"),
                    )
                },
                record(
                    "failed",
                    "2026-12-01T07:03:10Z",
                    Some("9f8e7d6c5b4a39281706"),
                ),
                Record {
                    errors: vec![
                        "syncing the companies after the deploy: ProvisionedThroughputExceededException".into(),
                    ],
                    ..record(
                        "updated",
                        "2026-12-01T07:01:42Z",
                        Some("0123456789abcdef0123"),
                    )
                },
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
