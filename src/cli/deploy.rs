//! Arguments of the commands that change stacks: deploy, plan, teardown.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fangops::config::EnvRef;
use fangops::deploy::{ArtifactSource, DeployRequest};
use fangops::plan::PlanRequest;
use fangops::teardown::TeardownRequest;

/// Where the Lambda zips come from, shared by deploy and plan.
#[derive(Debug, clap::Args)]
pub struct ArtifactArgs {
    /// Take the zips from DIR (`fangops build --out DIR`) instead of building them.
    #[arg(long, value_name = "DIR", conflicts_with = "profile")]
    pub artifacts: Option<PathBuf>,
    /// Cargo profile for building the zips when --artifacts is not given.
    #[arg(long, default_value = "lambda", value_name = "PROFILE")]
    pub profile: String,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

impl ArtifactArgs {
    fn source(&self, root: &Path) -> ArtifactSource {
        match &self.artifacts {
            Some(dir) if dir.is_absolute() => ArtifactSource::Dir(dir.clone()),
            Some(dir) => ArtifactSource::Dir(root.join(dir)),
            None => ArtifactSource::Build {
                profile: self.profile.clone(),
            },
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    /// Deploy a protected environment outside main in CI; name its stack to be sure.
    #[arg(long, value_name = "STACK")]
    pub allow_protected: Option<String>,
    /// Give up waiting for the stack after this many seconds (it goes on in AWS).
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
    /// Do not sync the companies table after the stack.
    #[arg(long)]
    pub no_sync: bool,
    /// Let the sync delete more of the table than `sync.max_delete_percent` allows.
    #[arg(long, conflicts_with = "no_sync")]
    pub allow_mass_delete: bool,
    /// Also write the deploy report (markdown) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub comment: CommentArgs,
}

impl DeployArgs {
    pub fn into_request(self, root: &Path) -> (DeployRequest, Option<PathBuf>) {
        let req = DeployRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            artifacts: self.artifacts.source(root),
            artifact_bucket: self.artifacts.artifact_bucket,
            allow_protected: self.allow_protected,
            timeout: Duration::from_secs(self.timeout),
            sync: !self.no_sync,
            allow_mass_delete: self.allow_mass_delete,
        };
        (req, self.report)
    }
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    /// Give up waiting for the change set after this many seconds.
    #[arg(long, default_value_t = 600, value_name = "S")]
    pub timeout: u64,
    /// Exit 3 when the plan has changes (0 when none).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the plan (markdown) to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compare the companies with the env file at this git revision when the live
    /// table cannot be read, and the cost; `file:PATH` compares with another env file
    /// [default in Actions: origin/$GITHUB_BASE_REF].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    #[command(flatten)]
    pub comment: CommentArgs,
}

impl PlanArgs {
    pub fn into_request(self, root: &Path) -> (PlanRequest, bool, Option<PathBuf>) {
        let req = PlanRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            artifacts: self.artifacts.source(root),
            artifact_bucket: self.artifacts.artifact_bucket,
            timeout: Duration::from_secs(self.timeout),
            base: self.base.or_else(github_base),
        };
        (req, self.detailed_exitcode, self.out)
    }
}

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    /// The environment: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Required: teardown never prompts.
    #[arg(long)]
    pub yes: bool,
    /// A protected environment also needs its stack's name here.
    #[arg(long, value_name = "STACK")]
    pub confirm: Option<String>,
    /// Also empty and delete the artifact bucket (shared by the account's stacks).
    #[arg(long)]
    pub artifacts: bool,
    /// The artifact bucket (default: fangops-artifacts-ACCOUNT-REGION).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
    /// Give up waiting for the stack's deletion after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "S")]
    pub timeout: u64,
}

impl TeardownArgs {
    pub fn into_request(self, root: &Path) -> TeardownRequest {
        TeardownRequest {
            root: root.to_path_buf(),
            env: EnvRef::parse(&self.env),
            yes: self.yes,
            confirm: self.confirm,
            artifacts: self.artifacts,
            artifact_bucket: self.artifact_bucket,
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

/// A pull request's base branch in Actions, as a revision the checkout has.
pub fn github_base() -> Option<String> {
    std::env::var("GITHUB_BASE_REF")
        .ok()
        .filter(|b| !b.is_empty())
        .map(|b| format!("origin/{b}"))
}

/// Posting a report as the environment's pull-request comment.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentArgs {
    /// Post the report as this environment's pull-request comment (edited in place on
    /// every run). Without GITHUB_TOKEN it is printed instead (or written, --comment-out).
    #[arg(long)]
    pub comment: bool,
    /// The repository, owner/name [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME", requires = "comment")]
    pub repo: Option<String>,
    /// The pull request [default: from $GITHUB_EVENT_PATH, or the PR of $GITHUB_SHA].
    #[arg(long, value_name = "N", requires = "comment")]
    pub pr: Option<u64>,
    /// Without a token, write the comment to FILE instead of printing it.
    #[arg(long, value_name = "FILE", requires = "comment")]
    pub comment_out: Option<PathBuf>,
}

impl CommentArgs {
    pub fn target(&self) -> Option<(fangops::github::Target, Option<PathBuf>)> {
        self.comment.then(|| {
            (
                fangops::github::Target::from_env(self.repo.clone(), self.pr),
                self.comment_out.clone(),
            )
        })
    }
}

/// `fangops comment`: any rendered report as the environment's comment.
#[derive(Debug, clap::Args)]
pub struct CommentCmdArgs {
    /// The environment whose comment to create or edit: a name or a path.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The markdown to post (a `plan --out` or `deploy --report` file); `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// The repository, owner/name [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// The pull request [default: from $GITHUB_EVENT_PATH, or the PR of $GITHUB_SHA].
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Without a token, write the comment to FILE instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub comment_out: Option<PathBuf>,
}

impl CommentCmdArgs {
    /// The env's name (for the marker), the body, where to post, and the fallback file.
    pub fn into_parts(
        self,
        root: &Path,
    ) -> anyhow::Result<(String, String, fangops::github::Target, Option<PathBuf>)> {
        use anyhow::Context;
        let env = match EnvRef::parse(&self.env) {
            EnvRef::Name(n) => n,
            EnvRef::Path(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let body = if self.file == Path::new("-") {
            std::io::read_to_string(std::io::stdin()).context("reading the comment from stdin")?
        } else {
            let path = if self.file.is_absolute() {
                self.file.clone()
            } else {
                root.join(&self.file)
            };
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
        };
        let marker = fangops::comment::marker(&env);
        let body = if body.starts_with(&marker) {
            body
        } else {
            fangops::comment::bound(format!("{marker}\n{body}"), "")
        };
        let target = fangops::github::Target::from_env(self.repo, self.pr);
        Ok((env, body, target, self.comment_out))
    }
}
