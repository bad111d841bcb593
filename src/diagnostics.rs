//! Located problems in the files fangops reads, and the error that carries them.
//!
//! Every check that can point at a place in a file reports a [`Diagnostic`], so that a
//! user always gets `file:line:col: message`, and `--json` gets the same fields.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One problem at one place in one file. Line and column are 1-based; 0 means unknown
/// (a file that cannot be read has no line to point at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    /// The dotted key the problem is about (`lambda.memory_mb`, `companies[3]`), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: &Path, line: u64, column: u64, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line,
            column,
            key: None,
            message: message.into(),
        }
    }

    /// A problem with the file as a whole (missing, unreadable).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        Self::new(file, 0, 0, message)
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.key = (!key.is_empty()).then_some(key);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column.max(1))?;
        }
        f.write_str(": ")?;
        // The key leads the message unless the message already names it.
        if let Some(key) = self
            .key
            .as_ref()
            .filter(|k| !self.message.contains(&format!("`{k}`")))
        {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Input that failed validation: every problem found, not just the first. The binary
/// maps this error to exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub Vec<Diagnostic>);

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidInput {}

/// A command used wrongly where clap cannot see it (a flag that only this machine or
/// this environment makes necessary). The binary maps it to exit code 2, like clap's
/// own usage errors; it is raised before anything is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_col_key() {
        let d = Diagnostic::new(Path::new("environments/dev.yaml"), 4, 14, "invalid u32")
            .with_key("lambda.memory_mb");
        assert_eq!(
            d.to_string(),
            "environments/dev.yaml:4:14: `lambda.memory_mb`: invalid u32"
        );
        let d = Diagnostic::whole_file(Path::new("x.yaml"), "file not found");
        assert_eq!(d.to_string(), "x.yaml: file not found");
    }
}
