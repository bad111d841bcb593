//! The environment a command acts on, resolved once at the edge: its env file read and
//! checked (as a pull request's preview when one is named), and the AWS context made
//! on first use. Core commands take a [`Target`] and their own options; none reads an
//! env file or makes a context of its own, so a command that never reaches AWS (a
//! validation error, `iam` with `--account`) makes no context at all.

use std::path::{Path, PathBuf};

use anyhow::Result;
use tokio::sync::OnceCell;

use crate::aws::AwsContext;
use crate::config::preview;
use crate::config::{self, EnvConfig, EnvRef};
use crate::diagnostics::InvalidInput;

/// How a command takes a pull request's preview of the env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// The env's own stack.
    None,
    /// A preview to deploy: refused where previews are turned off (`previews.max: 0`).
    New(preview::Spec),
    /// A preview that may exist: to run, read or tear down, even after an env file
    /// turned previews off.
    Existing(u64),
}

/// One environment, resolved: see the module's documentation.
#[derive(Debug)]
pub struct Target {
    /// The project root (`-C`): the template, the Lambda sources, the pricing tables
    /// and the IAM policies are read under it.
    pub root: PathBuf,
    /// The env file as checked, already the preview's when one was named.
    pub env: EnvConfig,
    /// `AWS_ENDPOINT_URL`, which wins over the file's `endpoint_url`.
    endpoint: Option<url::Url>,
    aws: OnceCell<AwsContext>,
}

impl Target {
    /// Reads and checks the env file `env` names under `root`, as `preview` asks: bad
    /// input fails here, before any AWS call.
    pub fn load(
        root: &Path,
        env: &EnvRef,
        preview: Preview,
        endpoint: Option<url::Url>,
    ) -> Result<Self, InvalidInput> {
        let env = read(root, env)?;
        let env = match preview {
            Preview::None => env,
            Preview::New(spec) => preview::of(env, &spec)?,
            Preview::Existing(pull_request) => preview::existing(
                env,
                &preview::Spec {
                    pull_request,
                    ..preview::Spec::default()
                },
            )?,
        };
        Ok(Self::new(root, env, endpoint))
    }

    /// A target of an env already checked.
    pub fn new(root: &Path, env: EnvConfig, endpoint: Option<url::Url>) -> Self {
        Self {
            root: root.to_path_buf(),
            env,
            endpoint,
            aws: OnceCell::new(),
        }
    }

    /// A target whose AWS context is `aws` (scripted or recorded responses, in tests).
    #[cfg(test)]
    pub(crate) fn with_aws(root: &Path, env: EnvConfig, aws: AwsContext) -> Self {
        Self {
            root: root.to_path_buf(),
            env,
            endpoint: None,
            aws: OnceCell::new_with(Some(aws)),
        }
    }

    /// The env's AWS context, made on first use.
    pub async fn aws(&self) -> Result<&AwsContext> {
        self.aws
            .get_or_try_init(|| AwsContext::new(&self.env, self.endpoint.as_ref()))
            .await
    }

    /// Pull request `pull_request`'s preview of this env, which may exist (to find or
    /// tear down); its AWS context is its own.
    pub fn preview(&self, pull_request: u64) -> Result<Self, InvalidInput> {
        let spec = preview::Spec {
            pull_request,
            ..preview::Spec::default()
        };
        let env = preview::existing(self.env.clone(), &spec)?;
        Ok(Self::new(&self.root, env, self.endpoint.clone()))
    }

    /// The pull request this target is the preview of, if it is one.
    pub fn pull_request(&self) -> Option<u64> {
        self.env.preview.as_ref().map(|p| p.pull_request)
    }
}

/// The env file `env` names under `root`, read and checked: the one place an env file
/// is parsed into its configuration (validation reads each file through it too; the
/// in-place edits of `config::edit` work on its text).
pub fn read(root: &Path, env: &EnvRef) -> Result<EnvConfig, InvalidInput> {
    read_path(&env.path(root))
}

/// The env file at `path`, read and checked.
pub fn read_path(path: &Path) -> Result<EnvConfig, InvalidInput> {
    config::load(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn a_preview_is_applied_when_the_target_is_resolved() {
        let dev = EnvRef::parse("dev");
        let own = Target::load(root(), &dev, Preview::None, None).unwrap();
        assert_eq!(own.pull_request(), None);
        let existing = Target::load(root(), &dev, Preview::Existing(12), None).unwrap();
        assert_eq!(existing.pull_request(), Some(12));
        assert_eq!(existing.env.stack, preview::stack_name(&own.env.stack, 12));
        assert_eq!(existing.env.base_stack(), own.env.stack);
        // Derived from a resolved target: the same env, as that pull request's preview.
        let derived = own.preview(12).unwrap();
        assert_eq!(derived.env.stack, existing.env.stack);
        let spec = preview::Spec {
            pull_request: 7,
            head: Some("abc".into()),
            companies: Vec::new(),
        };
        let new = Target::load(root(), &dev, Preview::New(spec), None).unwrap();
        assert_eq!(
            new.env.preview.as_ref().unwrap().head.as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn a_protected_env_has_no_preview_and_a_missing_file_is_located() {
        let prod = EnvRef::parse("prod");
        let refused = Target::load(root(), &prod, Preview::Existing(3), None).unwrap_err();
        assert!(refused.to_string().contains("protected"), "{refused}");
        let missing = Target::load(root(), &EnvRef::parse("nope"), Preview::None, None);
        let message = missing.unwrap_err().to_string();
        assert!(
            message.contains("environments/nope.yaml") && message.contains("file not found"),
            "{message}"
        );
    }

    #[test]
    fn previews_turned_off_refuse_a_new_one_but_still_reach_an_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("off.yaml");
        std::fs::write(
            &file,
            "stack: fang-off\nregion: us-east-1\ncompanies: [Acme]\npreviews:\n  max: 0\n",
        )
        .unwrap();
        let off = EnvRef::parse(file.to_str().unwrap());
        let spec = preview::Spec {
            pull_request: 4,
            ..preview::Spec::default()
        };
        let refused = Target::load(dir.path(), &off, Preview::New(spec), None).unwrap_err();
        assert!(refused.to_string().contains("previews.max: 0"), "{refused}");
        // Teardown of one made before the file turned previews off.
        let existing = Target::load(dir.path(), &off, Preview::Existing(4), None).unwrap();
        assert_eq!(existing.pull_request(), Some(4));
    }
}
