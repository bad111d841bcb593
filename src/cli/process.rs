//! The process environment, read in this one place: everything the core needs from
//! it (CI, the GitHub Actions variables, endpoint overrides) goes into the requests as
//! typed fields, so that the core never reads a variable and tests never set one.

use std::path::PathBuf;

use crate::deploy::CiContext;
use crate::diagnostics::UsageError;
use crate::github::{self, Target, Token};

/// The variables fangops reads, each empty value taken as unset.
#[derive(Debug, Clone, Default)]
pub struct ProcessEnv {
    /// `CI`: any value but empty, `false` or `0` (GitHub Actions sets `true`).
    pub ci: bool,
    /// `NO_COLOR`: any non-empty value.
    pub no_color: bool,
    /// `FANGOPS_LOG`: a log filter in `RUST_LOG` syntax.
    pub log_filter: Option<String>,
    /// `AWS_ENDPOINT_URL`: wins over an env file's `endpoint_url`.
    pub endpoint: Option<String>,
    /// `WIKIPEDIA_BASE_URL`: where the local runner fetches texts.
    pub wikipedia_base: Option<String>,
    /// `AWS_ENDPOINT_URL_COMPREHEND`: the SDK's variable for Comprehend alone.
    pub comprehend_endpoint: Option<String>,
    /// `CARGO`: set when fangops itself runs under cargo.
    pub cargo: Option<String>,
    /// `CARGO_HOME` (else `$HOME/.cargo`) and `CARGO_TARGET_DIR`: paths a Lambda build
    /// remaps, so its bytes do not depend on the machine.
    pub cargo_home: Option<PathBuf>,
    pub target_dir: Option<PathBuf>,
    /// `FANGOPS_RECORD_AWS_CALLS`: a file every AWS operation is appended to.
    pub record_aws_calls: Option<PathBuf>,
    pub github: GithubEnv,
}

/// GitHub Actions' variables.
#[derive(Debug, Clone, Default)]
pub struct GithubEnv {
    pub git_ref: Option<String>,
    pub base_ref: Option<String>,
    pub repository: Option<String>,
    pub event_path: Option<PathBuf>,
    pub sha: Option<String>,
    pub api_url: Option<String>,
    pub token: Option<Token>,
    pub step_summary: Option<PathBuf>,
}

fn parse_url(name: &str, value: Option<&str>) -> Result<Option<url::Url>, UsageError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            url::Url::parse(v).map_err(|e| UsageError(format!("{name}={v:?} is not a URL: {e}")))
        })
        .transpose()
}

impl ProcessEnv {
    /// Reads the variables. The only caller of `std::env::var` in the binary.
    #[allow(clippy::disallowed_methods)]
    pub fn read() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            ci: var("CI").is_some_and(|v| v != "false" && v != "0"),
            no_color: var("NO_COLOR").is_some(),
            log_filter: var("FANGOPS_LOG"),
            endpoint: var("AWS_ENDPOINT_URL").map(|v| v.trim().to_owned()),
            wikipedia_base: var("WIKIPEDIA_BASE_URL"),
            comprehend_endpoint: var("AWS_ENDPOINT_URL_COMPREHEND"),
            cargo: var("CARGO"),
            cargo_home: var("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cargo"))),
            target_dir: var("CARGO_TARGET_DIR").map(PathBuf::from),
            record_aws_calls: var("FANGOPS_RECORD_AWS_CALLS").map(PathBuf::from),
            github: GithubEnv {
                git_ref: var("GITHUB_REF"),
                base_ref: var("GITHUB_BASE_REF"),
                repository: var("GITHUB_REPOSITORY"),
                event_path: var("GITHUB_EVENT_PATH").map(PathBuf::from),
                sha: var("GITHUB_SHA"),
                api_url: var("GITHUB_API_URL"),
                token: var("GITHUB_TOKEN").map(Token::new),
                step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            },
        }
    }

    /// The endpoint override; a value that is no URL is a usage error (exit 2).
    pub fn endpoint(&self) -> Result<Option<url::Url>, UsageError> {
        parse_url("AWS_ENDPOINT_URL", self.endpoint.as_deref())
    }

    /// Comprehend's own endpoint override, checked the same way.
    pub fn comprehend_endpoint(&self) -> Result<Option<url::Url>, UsageError> {
        parse_url(
            "AWS_ENDPOINT_URL_COMPREHEND",
            self.comprehend_endpoint.as_deref(),
        )
    }

    pub fn ci_context(&self) -> CiContext {
        CiContext {
            ci: self.ci,
            git_ref: self.github.git_ref.clone(),
            sha: self.github.sha.clone(),
        }
    }

    /// The head commit of the pull request an Actions `pull_request` event is for.
    pub fn pull_request_head(&self) -> Option<String> {
        self.github
            .event_path
            .as_deref()
            .and_then(github::head_sha_from_event)
    }

    /// The time now, in seconds since the epoch (ages of previews are counted from it).
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    /// A pull request's base branch in Actions, as a revision the checkout has.
    pub fn base_revision(&self) -> Option<String> {
        self.github.base_ref.as_ref().map(|b| format!("origin/{b}"))
    }

    /// Where a comment goes: the Actions variables, with the flags on top.
    pub fn github_target(&self, repository: Option<String>, pr: Option<u64>) -> Target {
        let g = &self.github;
        Target {
            api_url: g.api_url.clone(),
            token: g.token.clone(),
            repository: repository.or_else(|| g.repository.clone()),
            pr: pr.or_else(|| g.event_path.as_deref().and_then(github::pr_from_event)),
            sha: g.sha.clone(),
            step_summary: g.step_summary.clone(),
        }
    }

    /// The tools a Lambda build runs with; the target dir defaults to the
    /// workspace's `target`.
    pub fn build_tools(&self, root: &std::path::Path) -> crate::build::Tools {
        // Remapping matches path prefixes as rustc sees them: absolute ones.
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        crate::build::Tools {
            cargo: PathBuf::from(self.cargo.as_deref().unwrap_or("cargo")),
            cargo_home: self.cargo_home.clone(),
            target_dir: Some(
                self.target_dir
                    .as_ref()
                    .map_or_else(|| root.join("target"), |d| root.join(d)),
            ),
        }
    }
}
