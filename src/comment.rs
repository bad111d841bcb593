//! Delivering a pull-request comment: posted (created, or edited in place) with a
//! token, printed or written without one; and `fangops comment`, which delivers a
//! report rendered earlier. What the comments say is `crate::report::comment`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::EnvRef;
use crate::github::{self, CommentOutcome, Posted, Target};
use crate::output::Ui;
use crate::report::comment::{bound, marker};

/// Where a comment goes: a pull request, or (without a token) stdout or a file.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub target: Target,
    /// Without a token, write the comment here instead of printing it.
    pub out: Option<PathBuf>,
}

/// Posts (or, without a token, prints) an environment's pull-request comment, and
/// logs what happened.
pub async fn post(delivery: &Delivery, env: &str, body: &str, ui: &Ui) -> Result<CommentOutcome> {
    let Delivery { target, out } = delivery;
    // With --json, stdout is the report: a comment without a token goes to stderr.
    let outcome = if ui.json && out.is_none() && !target.can_post() {
        github::step_summary(target.step_summary.as_deref(), body)?;
        ui.eprintln(body);
        CommentOutcome {
            posted: Posted::NotPosted,
            pr: target.pr,
            url: None,
        }
    } else {
        github::deliver(target, &marker(env), body, out.as_deref()).await?
    };
    match outcome.posted {
        Posted::NotPosted => {
            tracing::info!("no GITHUB_TOKEN (or repository): the comment was not posted");
        }
        Posted::Created | Posted::Updated => tracing::info!(
            "comment {} on pull request #{}{}",
            if outcome.posted == Posted::Created {
                "created"
            } else {
                "updated"
            },
            outcome.pr.unwrap_or_default(),
            outcome
                .url
                .as_deref()
                .map(|u| format!(": {u}"))
                .unwrap_or_default()
        ),
    }
    Ok(outcome)
}

/// Where `fangops comment` reads the markdown from.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// `fangops comment`: any rendered report (`plan --out`, `deploy --report`) as the
/// environment's comment.
#[derive(Debug, Clone)]
pub struct CommentRequest {
    pub env: EnvRef,
    pub source: Source,
    pub delivery: Delivery,
}

/// The name an env's comment marker carries: the env's name, or a path's file stem.
fn env_name(env: &EnvRef) -> String {
    match env {
        EnvRef::Name(n) => n.clone(),
        EnvRef::Path(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// A body read from elsewhere, marked as the env's comment and bounded to GitHub's
/// limit (unless it already is a fangops comment, bounded when it was rendered).
pub fn prepare_body(env: &str, body: String) -> String {
    let marker = marker(env);
    if body.starts_with(&marker) {
        body
    } else {
        bound(format!("{marker}\n{body}"), "")
    }
}

pub async fn run(req: &CommentRequest, ui: &Ui) -> Result<CommentOutcome> {
    let env = env_name(&req.env);
    let body =
        match &req.source {
            Source::Stdin => std::io::read_to_string(std::io::stdin())
                .context("reading the comment from stdin")?,
            Source::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        };
    post(&req.delivery, &env, &prepare_body(&env, body), ui).await
}
