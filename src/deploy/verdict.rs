//! What a verification and a rollback found: the reports and their one-line summaries
//! (their renderings are `crate::report::deploy`'s). Plain data, below `deploy` (whose
//! report carries them) and the modules that produce them (`verify`, `rollback`).

use fang_shared::RunId;
use serde::Serialize;

/// What the command line read for a verification, besides the env.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Where the local runner fetches Wikipedia texts (`WIKIPEDIA_BASE_URL`).
    pub wikipedia_base: Option<String>,
    /// Where the local runner's Comprehend client goes (`AWS_ENDPOINT_URL_COMPREHEND`).
    pub comprehend_endpoint: Option<url::Url>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
    pub duration_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub env: String,
    pub stack: String,
    pub passed: bool,
    /// The canary run's id (its results are under `canary/` in the results bucket).
    pub canary_run: Option<RunId>,
    pub companies: Vec<String>,
    /// Of `companies`, those run to report on, not to judge (a preview's added ones).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<String>,
    pub checks: Vec<Check>,
    /// Alarms in ALARM before the deploy: reported, not blamed on it.
    pub already_alarming: Vec<String>,
    pub duration_s: f64,
}

impl Verification {
    /// One line: what a deploy report, a comment and a record say.
    pub fn summary(&self) -> String {
        if let Some(failed) = self.checks.iter().find(|c| !c.passed) {
            return format!("verification failed: {}: {}", failed.name, failed.detail);
        }
        let results = self.companies.len() - self.reported.len();
        let reported = match self.reported.len() {
            0 => String::new(),
            1 => " and 1 company reported on".to_owned(),
            n => format!(" and {n} companies reported on"),
        };
        let before = if self.already_alarming.is_empty() {
            "no alarms".to_owned()
        } else {
            format!(
                "no new alarms ({} already in ALARM before: {})",
                self.already_alarming.len(),
                self.already_alarming.join(", ")
            )
        };
        format!(
            "verified in {:.0} s: {results} canary result{}{reported}, {before}",
            self.duration_s,
            if results == 1 { "" } else { "s" }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackOutcome {
    RolledBack,
    /// The restored stack is what the target made it, but it failed its verification.
    RolledBackUnverified,
    /// No record to go back to.
    NoTarget,
    /// `--to` named the deploy the stack already runs: nothing changed, nothing recorded.
    AlreadyRunning,
    Failed,
}

/// The record a rollback restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredDeploy {
    pub commit: Option<String>,
    pub deployed_at: String,
    /// When that record's verification passed.
    pub verified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub env: String,
    pub stack: String,
    pub outcome: RollbackOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<RestoredDeploy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Why there was no rollback, or why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_s: f64,
}

impl RollbackReport {
    /// The stack went back as asked.
    pub fn ok(&self) -> bool {
        self.outcome == RollbackOutcome::RolledBack
    }

    /// The stack runs the target, whether it went back or already did: a command's
    /// success.
    pub fn on_target(&self) -> bool {
        matches!(
            self.outcome,
            RollbackOutcome::RolledBack | RollbackOutcome::AlreadyRunning
        )
    }
}
