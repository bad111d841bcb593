//! `fangops run`: runs the pipeline once and waits for the run's results, with one of
//! two backends: against an emulator the [`local`] runner plays the Lambda service
//! (moto runs no Lambda code); in AWS, [`aws`] invokes the deployed producer with a run
//! id and watches S3 until the run's summary appears.

pub(crate) mod aws;
pub mod local;

use std::time::Duration;

use anyhow::Result;
use fang_shared::{RunId, keys};
use serde::Serialize;

use crate::output::Ui;
use crate::output::style::{self, paint};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub timeout: Duration,
    /// Where the local runner fetches Wikipedia texts (`WIKIPEDIA_BASE_URL`); the
    /// public API when unset.
    pub wikipedia_base: Option<String>,
    /// Where the local runner's Comprehend client goes (`AWS_ENDPOINT_URL_COMPREHEND`);
    /// the env's endpoint when unset.
    pub comprehend_endpoint: Option<url::Url>,
    /// A canary run (a deploy's verification): only these companies, under a
    /// `canary-` run id whose results stay apart from the scheduled runs'.
    pub canary: Option<Vec<String>>,
}

impl RunRequest {
    /// A new run id: a canary's when the request is one.
    fn new_run_id(&self, now: time::OffsetDateTime, random: u32) -> RunId {
        if self.canary.is_some() {
            RunId::canary(now, random)
        } else {
            RunId::generate(now, random)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub env: String,
    pub run_id: RunId,
    pub bucket: String,
    pub companies: usize,
    /// Companies with a sentiment.
    pub succeeded: usize,
    /// Companies with no text to analyze (no page, a disambiguation page): results
    /// that say what to fix in the env file, not failures.
    pub no_text: Vec<CompanyFailure>,
    pub failed: Vec<CompanyFailure>,
    pub timed_out: bool,
    pub duration_s: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyFailure {
    pub company: String,
    pub reason: String,
}

impl RunReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && !self.timed_out
            && self.succeeded + self.no_text.len() == self.companies
    }

    pub fn render(&self) -> String {
        let verdict = if self.ok() {
            paint(style::OK, "succeeded")
        } else {
            paint(style::ERROR, "finished with failures")
        };
        let mut out = format!(
            "run {} on {} {verdict}: {} companies, {} succeeded, {}{} failed, {:.1} s\n",
            self.run_id,
            self.env,
            self.companies,
            self.succeeded,
            if self.no_text.is_empty() {
                String::new()
            } else {
                format!("{} without text, ", self.no_text.len())
            },
            self.failed.len(),
            self.duration_s
        );
        for f in &self.no_text {
            out += &format!(
                "  {} {}: {}\n",
                paint(style::WARN, "!"),
                f.company,
                f.reason
            );
        }
        for f in &self.failed {
            out += &format!(
                "  {} {}: {}\n",
                paint(style::ERROR, "✗"),
                f.company,
                f.reason
            );
        }
        out += &format!(
            "results: s3://{}/{}\n",
            self.bucket,
            keys::run_prefix(&self.run_id)
        );
        out
    }
}

/// One run through the pipeline of `target` (a preview's, which has no schedule of its
/// own, when it is one): the local runner against an emulator, the deployed producer in
/// AWS.
pub async fn run(target: &Target, req: &RunRequest, ui: &Ui) -> Result<RunReport> {
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    if ctx.is_local() {
        return crate::aws::as_lambda(local::run(&target.env, ctx, req, ui)).await;
    }
    aws::run(&target.env, ctx, req, ui).await
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn run_report_terminal_snapshot() {
        let report = RunReport {
            env: "local".into(),
            run_id: RunId::new("20261130T060000Z-00000001").unwrap(),
            bucket: "fang-local-results-123456789012".into(),
            companies: 5,
            succeeded: 3,
            no_text: vec![CompanyFailure {
                company: "Apple".into(),
                reason: "no Wikipedia page for \"Apple Computer Inc\"".into(),
            }],
            failed: vec![CompanyFailure {
                company: "Amazon".into(),
                reason: "\"Amazon\" is a Wikipedia disambiguation page; use a more specific name"
                    .into(),
            }],
            timed_out: false,
            duration_s: 3.25,
        };
        insta::assert_snapshot!("run_with_failure", crate::output::plain(&report.render()));
        let ok = RunReport {
            succeeded: 5,
            no_text: Vec::new(),
            failed: Vec::new(),
            ..report
        };
        insta::assert_snapshot!("run_ok", crate::output::plain(&ok.render()));
    }
}
