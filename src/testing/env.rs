//! Env files for unit tests: the YAML a test varies, parsed as `fangops` parses a file.

use std::path::Path;

use crate::config::EnvConfig;

/// The day the tests' env files are read on: schedules count from it.
pub const DAY: time::Date = time::macros::date!(2026 - 01 - 01);

/// `environments/dev.yaml` for stack `fang-dev` in us-east-1: `extra` (whole YAML
/// lines, or nothing), then the companies.
pub fn dev(companies: &[&str], extra: &str) -> EnvConfig {
    file(
        "dev",
        &format!("stack: fang-dev\nregion: us-east-1\n{extra}"),
        companies,
    )
}

/// `environments/{name}.yaml` holding `head` (whole YAML lines), then the companies,
/// each quoted so that a name is read as the test wrote it.
pub fn file(name: &str, head: &str, companies: &[&str]) -> EnvConfig {
    let mut yaml = format!("{head}companies:");
    if companies.is_empty() {
        yaml += " []";
    }
    yaml += "\n";
    for company in companies {
        yaml += &format!("  - {}\n", serde_json::to_string(company).unwrap());
    }
    let path = format!("environments/{name}.yaml");
    crate::config::parse_as_of(Path::new(&path), yaml.as_bytes(), DAY)
        .unwrap_or_else(|e| panic!("{path} is not a valid env file: {e:#}\n{yaml}"))
}

/// `n` companies: `Company 0`, `Company 1`, ...
pub fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("Company {i}")).collect()
}
