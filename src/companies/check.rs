//! `fangops companies check`: every company's Wikipedia page, resolved through the
//! same client the sentiment Lambda uses, with a verdict and the fix to write in the
//! env file. "Apple" is the fruit's article, "Amazon" a disambiguation page: the
//! offline texts hide this, and prod would score fruit. The plan runs the same check
//! on the companies a pull request adds or gives another page.

use std::time::{Duration, Instant};

use anyhow::Result;
use fang_sentiment::text::{Page, TextError, WIKIPEDIA_BASE_URL, Wikipedia};
use futures::StreamExt;
use serde::Serialize;

use crate::config::EnvConfig;
use crate::config::names::Company;
use crate::output::style::{self, paint};

/// Lookups in flight at once: Wikimedia asks clients not to burst.
const CONCURRENCY: usize = 4;

#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// Wikipedia's REST base (`WIKIPEDIA_BASE_URL`); the public API when unset.
    pub wikipedia_base: Option<String>,
}

/// What Wikipedia has at a company's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A standard page with text: what the pipeline will read.
    Ok,
    /// The title redirects to another page; it works, but the file should name it.
    Redirected,
    /// A page listing meanings: the pipeline would get no text.
    Disambiguation,
    /// No such page.
    Missing,
    /// A page without summary text.
    Empty,
    /// Wikipedia did not answer (or not in time): nothing could be said.
    NotChecked,
}

/// One company's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageCheck {
    pub company: String,
    /// The title asked for: the entry's `wikipedia`, else the name.
    pub requested: String,
    /// The page Wikipedia landed on, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Wikipedia's short description of the page ("American technology company").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub verdict: Verdict,
    /// What is wrong and what to do, when something should change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The entry to write in the env file instead, when fangops can say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<String>,
}

impl PageCheck {
    fn from_lookup(company: &Company, result: Result<Page, TextError>) -> Self {
        let mut check = Self {
            company: company.name.clone(),
            requested: company.page().to_owned(),
            title: None,
            description: None,
            verdict: Verdict::Ok,
            fix: None,
            write: None,
        };
        let entry = |title: &str| {
            format!(
                "- {{name: {}, wikipedia: {}}}",
                crate::config::edit::scalar(&company.name),
                crate::config::edit::scalar(title)
            )
        };
        match result {
            Ok(page) => {
                check.description = page.description.clone();
                check.title = Some(page.title.clone());
                if page.kind == "disambiguation" {
                    check.verdict = Verdict::Disambiguation;
                    check.fix = Some(format!(
                        "{:?} lists several meanings: name the company's own page (often \"{} (company)\")",
                        page.title, page.title
                    ));
                    check.write = Some(entry(&format!("{} (company)", page.title)));
                } else if page.extract.trim().is_empty() {
                    check.verdict = Verdict::Empty;
                    check.fix = Some("the page has no summary text: name another page".into());
                } else if page.redirected() {
                    check.verdict = Verdict::Redirected;
                    check.fix = Some(format!(
                        "{:?} redirects to {:?}: name the page itself",
                        page.requested, page.title
                    ));
                    check.write = Some(entry(&page.title));
                }
            }
            Err(TextError::NotFound(_)) => {
                check.verdict = Verdict::Missing;
                check.fix = Some(format!(
                    "no page is titled {:?}: find the company's page and name it",
                    company.page()
                ));
                check.write = Some(entry("TITLE"));
            }
            Err(e) if e.is_transient() => {
                check.verdict = Verdict::NotChecked;
                check.fix = Some(format!("not checked: {e}"));
            }
            Err(e) => {
                check.verdict = Verdict::Empty;
                check.fix = Some(e.to_string());
            }
        }
        check
    }

    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Ok
    }
}

/// Looks up each company's page, a few at a time, giving up at `deadline`.
pub async fn check<'a>(
    wikipedia: &Wikipedia,
    companies: impl IntoIterator<Item = &'a Company>,
    deadline: Option<Instant>,
) -> Vec<PageCheck> {
    futures::stream::iter(companies)
        .map(|c| async move { PageCheck::from_lookup(c, wikipedia.lookup(c.page(), deadline).await) })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// The Wikipedia client the Lambda uses, at `base` (the public API when `None`).
pub fn client(base: Option<&str>) -> Result<Wikipedia> {
    Ok(Wikipedia::new(base.unwrap_or(WIKIPEDIA_BASE_URL))?)
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub env: String,
    pub checks: Vec<PageCheck>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(PageCheck::ok)
    }

    pub fn render(&self) -> String {
        let bad = self.checks.iter().filter(|c| !c.ok()).count();
        let mut out = format!(
            "Wikipedia pages of {} ({} companies): {}\n",
            self.env,
            self.checks.len(),
            if bad == 0 {
                paint(style::OK, "all ok")
            } else {
                paint(style::WARN, format!("{bad} to fix"))
            }
        );
        for c in &self.checks {
            let mark = match c.verdict {
                Verdict::Ok => paint(style::OK, "✓"),
                Verdict::NotChecked => paint(style::DIM, "?"),
                _ => paint(style::ERROR, "✗"),
            };
            let landed = c
                .title
                .as_deref()
                .filter(|t| *t != c.requested)
                .map(|t| format!(" → {t}"))
                .unwrap_or_default();
            let description = c
                .description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            out += &format!(
                "  {mark} {}: {}{landed}{description} [{}]\n",
                c.company,
                c.requested,
                verdict_name(c.verdict)
            );
            if let Some(fix) = &c.fix {
                out += &format!("      {fix}\n");
            }
            if let Some(write) = &c.write {
                out += &format!("      write: {write}\n");
            }
        }
        out
    }
}

pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Redirected => "redirected",
        Verdict::Disambiguation => "disambiguation",
        Verdict::Missing => "missing",
        Verdict::Empty => "no text",
        Verdict::NotChecked => "not checked",
    }
}

/// `fangops companies check --env E`.
pub async fn run(env: &EnvConfig, req: &CheckRequest) -> Result<CheckReport> {
    let wikipedia = client(req.wikipedia_base.as_deref())?;
    Ok(CheckReport {
        env: env.name.clone(),
        checks: check(&wikipedia, env.companies.iter(), None).await,
    })
}

/// The plan's check: only the companies a pull request adds or gives another page,
/// and only so long (a plan must not wait on an unreachable Wikipedia).
pub async fn check_for_plan(
    wikipedia: &Wikipedia,
    companies: impl IntoIterator<Item = &Company>,
) -> Vec<PageCheck> {
    check(wikipedia, companies, Some(Instant::now() + PLAN_BUDGET)).await
}

/// How long a plan spends on page checks at most.
pub const PLAN_BUDGET: Duration = Duration::from_secs(8);
