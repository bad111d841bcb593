//! GitHub: one comment per environment per pull request, found again by its hidden
//! marker and edited in place, and the step summary.
//!
//! Where to post is a [`Target`], which the command line fills from the Actions
//! environment (`GITHUB_REPOSITORY`, the event file at `GITHUB_EVENT_PATH`,
//! `GITHUB_SHA`, `GITHUB_API_URL`, `GITHUB_STEP_SUMMARY`) with flags to override; the
//! token only from `GITHUB_TOKEN`, and it never appears in any output. Without a token
//! the comment is printed or written to a file, so everything works locally.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use octocrab::Octocrab;
use serde::Serialize;

use crate::diagnostics::UsageError;

/// A token that cannot leak through `{:?}` or `{}`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where a comment goes, as far as the environment and the flags say.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub api_url: Option<String>,
    pub token: Option<Token>,
    /// `owner/name`.
    pub repository: Option<String>,
    pub pr: Option<u64>,
    /// The commit a merge deployed: its pull request is found from it.
    pub sha: Option<String>,
    /// The job's summary page (`GITHUB_STEP_SUMMARY`), which gets every comment too.
    pub step_summary: Option<PathBuf>,
}

impl Target {
    /// Whether a comment to this target would be posted (rather than printed).
    pub fn can_post(&self) -> bool {
        self.token.is_some() && self.repository.is_some()
    }

    /// Refuses, before any work, a target that could post but names no valid
    /// repository or no way to find the pull request: a usage error (exit 2), not a
    /// failure found after a deploy.
    pub fn check(&self) -> std::result::Result<(), UsageError> {
        let Some(repo) = self.repository.as_deref().filter(|_| self.token.is_some()) else {
            return Ok(());
        };
        split_repo(repo)?;
        if self.pr.is_none() && self.sha.is_none() {
            return Err(UsageError(
                "no pull request to comment on: pass --pr N, or run on a pull_request event or a push whose commit came from one".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The pull request number of a `pull_request` event (or an issue comment on one).
pub fn pr_from_event(path: &Path) -> Option<u64> {
    let event = read_event(path)?;
    event["pull_request"]["number"]
        .as_u64()
        .or_else(|| event["number"].as_u64())
}

/// The head commit of a `pull_request` event's pull request (`GITHUB_SHA` is the
/// merge commit GitHub makes for the run, not a commit of the branch).
pub fn head_sha_from_event(path: &Path) -> Option<String> {
    read_event(path)?["pull_request"]["head"]["sha"]
        .as_str()
        .map(str::to_owned)
}

/// The event that started the workflow run (`GITHUB_EVENT_PATH`), when readable.
fn read_event(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Where a pull request stands, for `fangops previews prune`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PullState {
    /// Open; `updated_at` is GitHub's last activity on it (RFC 3339).
    Open {
        updated_at: String,
    },
    Closed {
        merged: bool,
    },
    /// GitHub answers 404: deleted, transferred, or never there.
    Gone,
}

/// Pull request `pr`'s state: GET /repos/{owner}/{repo}/pulls/{pr} (`state` is `open`
/// or `closed`; `merged_at` is set when it was merged).
pub async fn pull_state(target: &Target, pr: u64) -> Result<PullState> {
    let repo = target.repository.as_deref().ok_or_else(|| {
        UsageError("no repository: set GITHUB_REPOSITORY or pass --repo owner/name".to_owned())
    })?;
    let (owner, name) = split_repo(repo)?;
    let gh = client(target)?;
    let route = format!("/repos/{owner}/{name}/pulls/{pr}");
    let answer: std::result::Result<serde_json::Value, _> =
        with_retries(|| gh.get(&route, None::<&()>)).await;
    let pull = match answer {
        Ok(p) => p,
        Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 404 => {
            // GitHub answers 404, not 403, for a repository the token may not see: only
            // a repository that answers makes a missing pull request really gone.
            let route = format!("/repos/{owner}/{name}");
            let seen: std::result::Result<serde_json::Value, _> =
                with_retries(|| gh.get(&route, None::<&()>)).await;
            return match seen {
                Ok(_) => Ok(PullState::Gone),
                Err(e) => Err(anyhow!(
                    "pull request #{pr} and the repository {repo} itself answer {}: check --repo and the token's access (a pull request is never taken for gone on that)",
                    match &e {
                        octocrab::Error::GitHub { source, .. } => source.status_code.to_string(),
                        other => other.to_string(),
                    }
                )),
            };
        }
        Err(e) => return Err(explain(e, "reading the pull request", repo, pr)),
    };
    Ok(match pull["state"].as_str() {
        Some("open") => PullState::Open {
            updated_at: pull["updated_at"].as_str().unwrap_or_default().to_owned(),
        },
        Some("closed") => PullState::Closed {
            merged: pull["merged_at"].is_string(),
        },
        other => anyhow::bail!("pull request #{pr} of {repo} has an unknown state {other:?}"),
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[expect(
    clippy::enum_variant_names,
    reason = "`not_posted` is the JSON's spelling, and reads better than a bare `not`"
)]
pub enum Posted {
    Created,
    Updated,
    /// No token (or no pull request): the comment was printed or written instead.
    NotPosted,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentOutcome {
    pub posted: Posted,
    pub pr: Option<u64>,
    pub url: Option<String>,
}

fn client(target: &Target) -> Result<Octocrab> {
    let token = target
        .token
        .as_ref()
        .ok_or_else(|| anyhow!("no GITHUB_TOKEN"))?;
    let mut b = Octocrab::builder().personal_token(token.0.clone());
    if let Some(url) = &target.api_url {
        b = b
            .base_uri(url.as_str())
            .map_err(|_| anyhow!("GITHUB_API_URL is not a URL: {url}"))?;
    }
    b.build().context("setting up the GitHub client")
}

/// What a GitHub error means for the user; never includes the token.
fn explain(e: octocrab::Error, what: &str, repo: &str, pr: u64) -> anyhow::Error {
    match &e {
        octocrab::Error::GitHub { source, .. } => match source.status_code.as_u16() {
            401 => anyhow!("{what}: GitHub rejected the token (401); check GITHUB_TOKEN"),
            403 => anyhow!(
                "{what}: the token may not write comments on {repo} (403: {}); give the workflow job `permissions: pull-requests: write`",
                source.message
            ),
            404 => anyhow!(
                "{what}: pull request #{pr} was not found in {repo} (404); it may be gone, or the token cannot see the repository"
            ),
            code => anyhow!("{what}: GitHub answered {code}: {}", source.message),
        },
        _ => anyhow!("{what}: {e}"),
    }
}

/// Rate limits and GitHub's own hiccups are worth another try; nothing else is.
fn retryable(e: &octocrab::Error) -> bool {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let code = source.status_code.as_u16();
            code == 429
                || code >= 500
                || (code == 403 && source.message.to_ascii_lowercase().contains("rate limit"))
        }
        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => true,
        _ => false,
    }
}

/// Runs `op` until it succeeds, fails for good, or 4 attempts (1, 2, 4 s apart).
async fn with_retries<T, F, Fut>(mut op: F) -> std::result::Result<T, octocrab::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, octocrab::Error>>,
{
    let mut delay = Duration::from_secs(1);
    for attempt in 1.. {
        match op().await {
            Err(e) if attempt < 4 && retryable(&e) => {
                tracing::info!(
                    "GitHub asked to slow down or failed; trying again in {} s",
                    delay.as_secs()
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

/// `owner/name`, or a usage error saying so.
pub fn check_repository(repo: &str) -> std::result::Result<(), UsageError> {
    split_repo(repo).map(|_| ())
}

/// `--repo`'s value parser: a malformed repository is a usage error (exit 2) when the
/// flag is parsed, whether or not anything is then posted.
pub fn parse_repository(repo: &str) -> std::result::Result<String, UsageError> {
    check_repository(repo).map(|()| repo.to_owned())
}

fn split_repo(repo: &str) -> std::result::Result<(&str, &str), UsageError> {
    repo.split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| UsageError(format!("{repo:?} is not a repository: use owner/name")))
}

/// Creates the environment's comment on the pull request, or edits the one that
/// carries its marker (looked for on every page of the comments).
pub async fn upsert(target: &Target, marker: &str, body: &str) -> Result<CommentOutcome> {
    target.check()?;
    let repo = target.repository.as_deref().ok_or_else(|| {
        UsageError("no repository: set GITHUB_REPOSITORY or pass --repo owner/name".to_owned())
    })?;
    let (owner, name) = split_repo(repo)?;
    let gh = client(target)?;
    let pr = match target.pr {
        Some(pr) => pr,
        None => {
            let sha = target
                .sha
                .as_deref()
                .context("checked above: a target without a pull request has a commit")?;
            match pr_for_commit(&gh, owner, name, sha).await? {
                Some(pr) => pr,
                // A push straight to main: the report is in the job summary already,
                // and what it reports (a deploy that went through) must not fail.
                None => {
                    let text = format!(
                        "commit {sha} belongs to no pull request in {repo}: the report is in the job summary only"
                    );
                    if target.step_summary.is_some() {
                        // An Actions annotation, shown on the run's page.
                        crate::output::annotate_warning(&text);
                    }
                    tracing::warn!("{text}");
                    return Ok(CommentOutcome {
                        posted: Posted::NotPosted,
                        pr: None,
                        url: None,
                    });
                }
            }
        }
    };
    let mut existing = None;
    for page in 1u32.. {
        let route = format!("/repos/{owner}/{name}/issues/{pr}/comments?per_page=100&page={page}");
        let comments: Vec<serde_json::Value> =
            with_retries(|| gh.get(&route, None::<&()>))
                .await
                .map_err(|e| explain(e, "listing the pull request's comments", repo, pr))?;
        existing = comments
            .iter()
            .find(|c| c["body"].as_str().is_some_and(|b| b.starts_with(marker)))
            .and_then(|c| c["id"].as_u64());
        if existing.is_some() || comments.len() < 100 {
            break;
        }
    }
    let payload = serde_json::json!({ "body": body });
    let (posted, answer): (Posted, serde_json::Value) = match existing {
        Some(id) => {
            let route = format!("/repos/{owner}/{name}/issues/comments/{id}");
            let answer = with_retries(|| gh.patch(&route, Some(&payload)))
                .await
                .map_err(|e| explain(e, "updating the fangops comment", repo, pr))?;
            (Posted::Updated, answer)
        }
        None => {
            let route = format!("/repos/{owner}/{name}/issues/{pr}/comments");
            let answer = with_retries(|| gh.post(&route, Some(&payload)))
                .await
                .map_err(|e| explain(e, "creating the fangops comment", repo, pr))?;
            (Posted::Created, answer)
        }
    };
    Ok(CommentOutcome {
        posted,
        pr: Some(pr),
        url: answer["html_url"].as_str().map(str::to_owned),
    })
}

/// The pull request a commit was merged from (the first GitHub lists).
pub async fn pr_for_commit(
    gh: &Octocrab,
    owner: &str,
    name: &str,
    sha: &str,
) -> Result<Option<u64>> {
    let route = format!("/repos/{owner}/{name}/commits/{sha}/pulls");
    let pulls: Vec<serde_json::Value> = with_retries(|| gh.get(&route, None::<&()>))
        .await
        .map_err(|e| {
            explain(
                e,
                "finding the pull request of the commit",
                &format!("{owner}/{name}"),
                0,
            )
        })?;
    Ok(pulls.first().and_then(|p| p["number"].as_u64()))
}

/// Appends the report to the job's summary page when Actions provides one.
pub fn step_summary(path: Option<&Path>, body: &str) -> Result<bool> {
    let Some(path) = path else {
        return Ok(false);
    };
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the step summary {}", path.display()))?;
    writeln!(f, "{body}").context("writing the step summary")?;
    Ok(true)
}

/// Posts the comment when there is a token and somewhere to post it; otherwise prints
/// it (or writes it to `out`). Either way the step summary gets it in Actions.
pub async fn deliver(
    target: &Target,
    marker: &str,
    body: &str,
    out: Option<&std::path::Path>,
) -> Result<CommentOutcome> {
    step_summary(target.step_summary.as_deref(), body)?;
    if !target.can_post() {
        match out {
            Some(path) => std::fs::write(path, body)
                .with_context(|| format!("writing the comment to {}", path.display()))?,
            None => println!("{body}"),
        }
        return Ok(CommentOutcome {
            posted: Posted::NotPosted,
            pr: target.pr,
            url: None,
        });
    }
    upsert(target, marker, body).await
}

#[cfg(test)]
mod pull_state_tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn target(server: &MockServer) -> Target {
        Target {
            api_url: Some(server.uri()),
            token: Some(Token::new("t".into())),
            repository: Some("acme/pipeline".into()),
            ..Target::default()
        }
    }

    /// A pull request is gone only when its repository answers: a 404 for both (a
    /// wrong --repo, a token that cannot see it) is an error, never a reason to prune.
    #[tokio::test]
    async fn a_404_is_gone_only_when_the_repository_answers() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/acme/pipeline/pulls/9"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(serde_json::json!({"message": "Not Found"})),
            )
            .mount(&server)
            .await;
        let err = pull_state(&target(&server), 9).await.unwrap_err();
        assert!(err.to_string().contains("check --repo"), "{err:#}");
        Mock::given(method("GET"))
            .and(path("/repos/acme/pipeline"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"full_name": "acme/pipeline"})),
            )
            .mount(&server)
            .await;
        assert_eq!(
            pull_state(&target(&server), 9).await.unwrap(),
            PullState::Gone
        );
        Mock::given(method("GET"))
            .and(path("/repos/acme/pipeline/pulls/3"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "state": "closed", "merged_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"
            })))
            .mount(&server)
            .await;
        assert_eq!(
            pull_state(&target(&server), 3).await.unwrap(),
            PullState::Closed { merged: true }
        );
    }
}
