//! Where results live in S3. One object per run and company under
//! `results/<date>/<run_id>/`, plus the run's manifest and summary.
//!
//! Keys must be safe for any company name, so a name becomes a slug (ASCII letters and
//! digits) plus a short hash of the exact name: "Société Générale" and "Societe
//! Generale" get different keys, and a name in any script still gets one.

use sha2::{Digest, Sha256};

use crate::RunId;

pub const RESULTS_PREFIX: &str = "results/";
/// Where canary runs (a deploy's verification) keep theirs: apart from the results
/// people read, so that `results`, the trend and the report never count them.
pub const CANARY_PREFIX: &str = "canary/";
pub const MANIFEST_NAME: &str = "_run.json";
pub const SUMMARY_NAME: &str = "summary.csv";

/// `results/<date>/<run_id>/`, or `canary/<date>/<run_id>/` for a canary run.
pub fn run_prefix(run_id: &RunId) -> String {
    let root = if run_id.is_canary() {
        CANARY_PREFIX
    } else {
        RESULTS_PREFIX
    };
    format!("{root}{}/{}/", run_id.date(), run_id)
}

/// Where the sentiment function keeps what it can reuse between runs: the last text and
/// validator of each Wikipedia page, and each analysis by the text it scored.
pub const CACHE_PREFIX: &str = "cache/";

/// `cache/pages/<sha256 of the title>.json`: a page's last text and its ETag.
pub fn page_cache_key(title: &str) -> String {
    format!(
        "{CACHE_PREFIX}pages/{}.json",
        crate::hex(&Sha256::digest(title.as_bytes()))
    )
}

/// `cache/analysis/<sha256>.json`: one analysis, keyed by the analyzer, the language and
/// the exact text sent (NUL-separated, so that no two triples hash alike).
pub fn analysis_cache_key(analyzer: &str, language: &str, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [analyzer, language, text] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("{CACHE_PREFIX}analysis/{}.json", crate::hex(&h.finalize()))
}

pub fn manifest_key(run_id: &RunId) -> String {
    format!("{}{MANIFEST_NAME}", run_prefix(run_id))
}

pub fn summary_key(run_id: &RunId) -> String {
    format!("{}{SUMMARY_NAME}", run_prefix(run_id))
}

/// `results/<date>/<run_id>/<slug>-<hash>.json`
pub fn result_key(run_id: &RunId, company: &str) -> String {
    format!("{}{}.json", run_prefix(run_id), slug(company))
}

/// Under a canary run's prefix: a note for each company whose message failed.
pub const FAILURES_DIR: &str = "_failures/";

/// `canary/<date>/<run_id>/_failures/<slug>-<hash>.json`: why a canary's message failed
/// (a `FailureNote`), the last time it did.
pub fn failure_key(run_id: &RunId, company: &str) -> String {
    format!("{}{FAILURES_DIR}{}.json", run_prefix(run_id), slug(company))
}

/// Whether a key is a canary's failure note.
pub fn is_failure_key(key: &str) -> bool {
    key.contains(&format!("/{FAILURES_DIR}"))
}

/// Whether a key under a run prefix is a company result (not the manifest, the summary
/// or a failure note).
pub fn is_result_key(key: &str) -> bool {
    key.ends_with(".json") && !key.ends_with(MANIFEST_NAME) && !is_failure_key(key)
}

/// Lowercase ASCII words joined by `-`, at most 40 characters, then 8 hex digits of the
/// SHA-256 of the exact name.
pub fn slug(company: &str) -> String {
    let mut words = String::new();
    for c in company.chars() {
        if c.is_ascii_alphanumeric() {
            words.push(c.to_ascii_lowercase());
        } else if !words.is_empty() && !words.ends_with('-') {
            words.push('-');
        }
    }
    let mut words: String = words.trim_end_matches('-').chars().take(40).collect();
    while words.ends_with('-') {
        words.pop();
    }
    let hash = Sha256::digest(company.as_bytes());
    let short = crate::hex(&hash[..4]);
    if words.is_empty() {
        short
    } else {
        format!("{words}-{short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_for_any_name() {
        let run = RunId::new("20261130T060000Z-00000001").unwrap();
        assert_eq!(
            run_prefix(&run),
            "results/2026-11-30/20261130T060000Z-00000001/"
        );
        let key = result_key(&run, "['google', 'netflix']");
        assert!(
            key.starts_with("results/2026-11-30/20261130T060000Z-00000001/google-netflix-"),
            "{key}"
        );
        for name in ["../../etc/passwd", "a/b\\c", "トヨタ自動車", "   ", "Ω"] {
            let s = slug(name);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s}"
            );
            assert!(!s.starts_with('-') && !s.ends_with('-'), "{s}");
        }
        assert_eq!(slug("トヨタ自動車").len(), 8);
        let t = time::macros::datetime!(2026-11-30 06:00:00 UTC);
        let canary = RunId::canary(t, 1);
        assert_eq!(canary.as_str(), "canary-20261130T060000Z-00000001");
        assert!(canary.is_canary() && !run.is_canary());
        assert_eq!(
            run_prefix(&canary),
            "canary/2026-11-30/canary-20261130T060000Z-00000001/"
        );
        assert!(!result_key(&canary, "Apple").starts_with(RESULTS_PREFIX));
        assert_ne!(slug("Société Générale"), slug("Societe Generale"));
        let a = analysis_cache_key("comprehend", "en", "Apple makes phones.");
        assert!(
            a.starts_with("cache/analysis/") && a.ends_with(".json"),
            "{a}"
        );
        assert_eq!(
            a,
            analysis_cache_key("comprehend", "en", "Apple makes phones.")
        );
        assert_ne!(a, analysis_cache_key("vader", "en", "Apple makes phones."));
        assert_ne!(
            analysis_cache_key("comprehend", "en", "ab"),
            analysis_cache_key("comprehend", "ena", "b"),
            "parts are separated"
        );
        assert_ne!(page_cache_key("Apple Inc."), page_cache_key("Apple"));
        assert!(slug(&"x".repeat(300)).len() <= 49);
        assert!(is_result_key(&key));
        assert!(!is_result_key(&manifest_key(&run)));
        assert!(!is_result_key(&summary_key(&run)));
        let note = failure_key(&canary, "Apple");
        assert_eq!(
            note,
            format!(
                "canary/2026-11-30/canary-20261130T060000Z-00000001/_failures/{}.json",
                slug("Apple")
            )
        );
        assert!(is_failure_key(&note) && !is_result_key(&note));
        assert!(!is_failure_key(&result_key(&canary, "Apple")));
    }
}
