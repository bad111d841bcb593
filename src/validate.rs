//! `fangops validate`: checks every env file (or one) and reports every problem.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{self, ENV_DIR, EnvRef};
use crate::diagnostics::Diagnostic;
use crate::output::style::{self, paint};

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    pub root: PathBuf,
    /// One environment; `None` means every `*.yaml` under `environments/`.
    pub env: Option<EnvRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    pub ok: bool,
    pub files: Vec<FileSummary>,
    pub errors: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: PathBuf,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub companies: Option<usize>,
}

pub fn run(req: &ValidateRequest) -> ValidateReport {
    let files = match &req.env {
        Some(env) => vec![env.path(&req.root)],
        None => env_files(&req.root),
    };
    let mut report = ValidateReport {
        ok: true,
        files: Vec::new(),
        errors: Vec::new(),
    };
    if files.is_empty() {
        report.ok = false;
        report.errors.push(Diagnostic::whole_file(
            &req.root.join(ENV_DIR),
            "no env files found (expected environments/*.yaml)",
        ));
    }
    if req.env.is_none() {
        check_template(&req.root, &mut report);
        check_pricing(&req.root, &mut report);
    }
    let mut loaded = Vec::new();
    for path in files {
        let shown = display_path(&req.root, &path);
        match crate::target::read_path(&path) {
            Ok(cfg) => {
                report.files.push(FileSummary {
                    file: shown.clone(),
                    ok: true,
                    stack: Some(cfg.stack.clone()),
                    companies: Some(cfg.companies.len()),
                });
                loaded.push((shown, cfg));
            }
            Err(invalid) => {
                report.ok = false;
                report.files.push(FileSummary {
                    file: shown.clone(),
                    ok: false,
                    stack: None,
                    companies: None,
                });
                report.errors.extend(invalid.0.into_iter().map(|mut d| {
                    d.file = shown.clone();
                    d
                }));
            }
        }
    }
    let clashes = stack_clashes(&loaded);
    if !clashes.is_empty() {
        report.ok = false;
        for (file, _) in &loaded {
            if clashes.iter().any(|d| &d.file == file)
                && let Some(f) = report.files.iter_mut().find(|f| &f.file == file)
            {
                f.ok = false;
            }
        }
        report.errors.extend(clashes);
    }
    report
}

/// An env with previews is granted its stack and its previews by one pattern (its
/// stack's start and `*`, see [`crate::config::preview::family_start`]): another env whose
/// stack starts the same way would be granted too, and could bear a preview's name.
fn stack_clashes(envs: &[(PathBuf, config::EnvConfig)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (_, a) in envs
        .iter()
        .filter(|(_, e)| !e.protected && e.previews.max > 0)
    {
        let start = crate::config::preview::family_start(&a.stack);
        for (file, b) in envs {
            if b.name != a.name && b.stack.starts_with(start) {
                out.push(
                    Diagnostic::whole_file(
                        file,
                        format!(
                            "stack {} starts with {start:?}, as the stack of environment {} and its pull-request previews do: {}'s roles would reach this stack's resources. Rename one stack, or set `previews: {{max: 0}}` in {}'s file",
                            b.stack, a.name, a.name, a.name
                        ),
                    )
                    .with_key("stack"),
                );
            }
        }
    }
    out
}

/// The template: it parses, fangops can fill its parameters, its IAM has no wildcards.
/// A project without one (env files only) is fine until it deploys.
fn check_template(root: &Path, report: &mut ValidateReport) {
    use crate::deploy::{params, template};
    let path = config::project_path(root, template::TEMPLATE_PATH);
    if !path.exists() {
        return;
    }
    let diags = match template::load(&path) {
        Ok(t) => {
            let mut diags = t.lint_iam();
            if let Err(invalid) = t.check_parameters(params::SET_BY_FANGOPS) {
                diags.extend(invalid.0);
            }
            diags
        }
        Err(invalid) => invalid.0,
    };
    report.files.push(FileSummary {
        file: display_path(root, &path),
        ok: diags.is_empty(),
        stack: None,
        companies: None,
    });
    if !diags.is_empty() {
        report.ok = false;
        report.errors.extend(diags);
    }
}

/// Every pricing table under `infra/pricing/`: complete, no negative price, known units.
fn check_pricing(root: &Path, report: &mut ValidateReport) {
    let dir = config::project_path(root, crate::cost::pricing::PRICING_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let shown = display_path(root, &path);
        let diags = match std::fs::read_to_string(&path) {
            Ok(text) => crate::cost::pricing::parse(&shown, &text)
                .err()
                .map(|e| e.0)
                .unwrap_or_default(),
            Err(e) => vec![Diagnostic::whole_file(&shown, format!("cannot read: {e}"))],
        };
        report.files.push(FileSummary {
            file: shown,
            ok: diags.is_empty(),
            stack: None,
            companies: None,
        });
        if !diags.is_empty() {
            report.ok = false;
            report.errors.extend(diags);
        }
    }
}

/// Paths are shown relative to the project root, as a user would type them.
fn display_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// Every env file, sorted so output is stable.
pub fn env_files(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join(ENV_DIR)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

impl ValidateReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.errors {
            out += &format!("{} {d}\n", paint(style::ERROR, "error:"));
        }
        for f in self.files.iter().filter(|f| f.ok) {
            let what = match (&f.stack, f.companies) {
                (Some(stack), Some(n)) => format!(" (stack {stack}, {n} companies)"),
                _ => String::new(),
            };
            out += &format!("{} {}{what}\n", paint(style::OK, "ok"), f.file.display());
        }
        let bad = self.files.iter().filter(|f| !f.ok).count();
        if !self.ok {
            out += &format!(
                "{} error(s) in {} of {} file(s)\n",
                self.errors.len(),
                bad,
                self.files.len()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::diagnostics::Diagnostic;

    #[test]
    fn a_stack_that_starts_as_another_envs_previews_is_an_error() {
        let env = |name: &str, yaml: &str| {
            let path = PathBuf::from(format!("environments/{name}.yaml"));
            let cfg = config::parse(&path, yaml.as_bytes()).unwrap();
            (path, cfg)
        };
        let dev = env(
            "dev",
            "stack: fang-dev\nregion: us-east-1\ncompanies: [Apple]\n",
        );
        let other = env(
            "dev2",
            "stack: fang-dev-prod\nregion: us-east-1\ncompanies: [Apple]\n",
        );
        let prod = env(
            "prod",
            "stack: fang-prod\nregion: us-east-1\nprotected: true\ncompanies: [Apple]\n",
        );
        let clashes = stack_clashes(&[dev.clone(), other.clone(), prod.clone()]);
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert_eq!(clashes[0].file, other.0);
        assert!(
            clashes[0].message.contains("environment dev"),
            "{}",
            clashes[0].message
        );
        // Without previews, the env's grants name its stack exactly.
        let no_previews = env(
            "dev",
            "stack: fang-dev\nregion: us-east-1\npreviews: {max: 0}\ncompanies: [Apple]\n",
        );
        assert!(stack_clashes(&[no_previews, other, prod]).is_empty());
    }

    #[test]
    fn validate_report_terminal_snapshot() {
        let report = ValidateReport {
            ok: false,
            files: vec![
                FileSummary {
                    file: "environments/dev.yaml".into(),
                    ok: true,
                    stack: Some("fang-dev".into()),
                    companies: Some(5),
                },
                FileSummary {
                    file: "environments/prod.yaml".into(),
                    ok: false,
                    stack: None,
                    companies: None,
                },
            ],
            errors: vec![
                Diagnostic::new(
                    Path::new("environments/prod.yaml"),
                    4,
                    3,
                    "unknown field `timeout`; did you mean `timeout_s`?",
                )
                .with_key("lambda.timeout"),
            ],
        };
        insta::assert_snapshot!(crate::output::plain(&report.render()));
    }
}
