//! The template's parameters, derived from the env file and the artifacts, and the
//! fingerprint that lets an unchanged deploy skip the change set.

use sha2::{Digest, Sha256};

use crate::config::{Analyzer, Arch, EnvConfig, TextSource};

/// The parameter that carries the fingerprint; the template echoes it as an output.
pub const FINGERPRINT: &str = "Fingerprint";

/// Bumped when the meaning of a parameter changes, so old fingerprints never match.
const FINGERPRINT_VERSION: &str = "fangops-deploy-1";

/// Every parameter fangops sets, the fingerprint included: what `validate` checks the
/// template against.
pub const SET_BY_FANGOPS: [&str; 20] = [
    "Environment",
    "ArtifactBucket",
    "ProducerCodeKey",
    "SentimentCodeKey",
    "Architecture",
    "MemoryMb",
    "TimeoutS",
    "QueueVisibilityTimeoutS",
    "MaxConcurrency",
    "ResultsRetentionDays",
    "Schedule",
    "ScheduleState",
    "Analyzer",
    "TextSource",
    "AlarmEmail",
    "EnforceTls",
    "LambdaConsumesQueue",
    "RoleBoundary",
    "CacheMaxAgeDays",
    FINGERPRINT,
];

/// The stack's tags (CloudFormation passes them to every resource that takes tags).
pub fn tags(env: &EnvConfig) -> Vec<(String, String)> {
    let mut tags = vec![
        ("fangops:env".to_owned(), env.name.clone()),
        ("fangops:stack".to_owned(), env.stack.clone()),
    ];
    // What `fangops previews` lists and prunes by. The head is the commit the stack was
    // last changed for: a push that changes nothing leaves the stack, and its tags, alone.
    if let Some(p) = &env.preview {
        tags.push((crate::config::preview::TAG_OF.to_owned(), p.stack.clone()));
        tags.push((
            crate::config::preview::TAG_PULL_REQUEST.to_owned(),
            p.pull_request.to_string(),
        ));
        if let Some(head) = &p.head {
            tags.push((crate::config::preview::TAG_HEAD.to_owned(), head.clone()));
        }
    }
    tags
}

/// The code locations of the two functions.
#[derive(Debug, Clone)]
pub struct Code {
    pub bucket: String,
    pub producer_key: String,
    pub sentiment_key: String,
}

/// Every parameter fangops sets except the fingerprint, in template order.
/// `local`: the env talks to an emulator on plain http on this machine, where the
/// TLS-only bucket policy would lock fangops out and the local runner, not Lambda,
/// consumes the queue.
pub fn parameters(env: &EnvConfig, code: &Code, local: bool) -> Vec<(String, String)> {
    let arch = match env.lambda.arch {
        Arch::Arm64 => "arm64",
        Arch::X86_64 => "x86_64",
    };
    let analyzer = match env.sentiment {
        Analyzer::Comprehend => "comprehend",
        Analyzer::Vader => "vader",
    };
    let text_source = match env.text_source {
        TextSource::Wikipedia => "wikipedia",
        TextSource::Fixtures => "fixtures",
    };
    [
        ("Environment", env.name.clone()),
        ("ArtifactBucket", code.bucket.clone()),
        ("ProducerCodeKey", code.producer_key.clone()),
        ("SentimentCodeKey", code.sentiment_key.clone()),
        ("Architecture", arch.to_owned()),
        ("MemoryMb", env.lambda.memory_mb.to_string()),
        ("TimeoutS", env.lambda.timeout_s.to_string()),
        (
            "QueueVisibilityTimeoutS",
            env.lambda.queue_visibility_timeout_s().to_string(),
        ),
        ("MaxConcurrency", env.lambda.max_concurrency.to_string()),
        (
            "ResultsRetentionDays",
            env.results.retention_days.unwrap_or(0).to_string(),
        ),
        ("Schedule", env.schedule.to_string()),
        // A preview runs only when fangops asks: its deploy's canary run.
        (
            "ScheduleState",
            if env.preview.is_some() {
                "DISABLED"
            } else {
                "ENABLED"
            }
            .to_owned(),
        ),
        ("Analyzer", analyzer.to_owned()),
        ("TextSource", text_source.to_owned()),
        ("AlarmEmail", env.alarms.email.clone().unwrap_or_default()),
        ("EnforceTls", (!local).to_string()),
        ("LambdaConsumesQueue", (!local).to_string()),
        // With a CloudFormation service role, that role may create the function roles
        // only under the stack's permissions boundary (infra/iam/function-boundary.json).
        // A preview's roles live under its env's boundary: one per env file, made with
        // the roles fangops runs under.
        (
            "RoleBoundary",
            if env.cloudformation_role.is_some() {
                format!("{}-function-boundary", env.base_stack())
            } else {
                String::new()
            },
        ),
        ("CacheMaxAgeDays", env.cache.max_age_parameter().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A hash of everything a deploy sends: the template text and the parameters (which
/// include the artifacts' content-addressed keys). Equal fingerprints mean the stack
/// already is what this deploy would make it.
pub fn fingerprint(template_body: &str, params: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(FINGERPRINT_VERSION.as_bytes());
    h.update([0]);
    h.update(template_body.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (k, v) in sorted {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([b'=']);
        h.update(v.as_bytes());
    }
    fang_shared::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fingerprint_ignores_order_and_sees_every_change() {
        let a = fingerprint("T", &p(&[("A", "1"), ("B", "2")]));
        assert_eq!(a, fingerprint("T", &p(&[("B", "2"), ("A", "1")])));
        assert_ne!(a, fingerprint("T ", &p(&[("A", "1"), ("B", "2")])));
        assert_ne!(a, fingerprint("T", &p(&[("A", "1"), ("B", "3")])));
        // No ambiguity between keys and values.
        assert_ne!(
            fingerprint("T", &p(&[("A", "1=B")])),
            fingerprint("T", &p(&[("A", "1"), ("B", "")]))
        );
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn set_by_fangops_lists_every_parameter() {
        let env = crate::config::parse(
            std::path::Path::new("environments/t.yaml"),
            b"stack: fang-t\nregion: us-east-1\ncompanies: [A]\n",
        )
        .unwrap();
        let code = Code {
            bucket: "b".into(),
            producer_key: "p".into(),
            sentiment_key: "s".into(),
        };
        let mut names: Vec<String> = parameters(&env, &code, false)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        names.push(FINGERPRINT.to_owned());
        assert_eq!(names, SET_BY_FANGOPS);
    }

    #[test]
    fn visibility_is_six_timeouts_and_the_batching_window_capped() {
        let visibility = |timeout_s| {
            crate::config::LambdaConfig {
                memory_mb: 256,
                timeout_s,
                arch: crate::config::Arch::Arm64,
                max_concurrency: 5,
            }
            .queue_visibility_timeout_s()
        };
        assert_eq!(visibility(60), 365);
        assert_eq!(visibility(900), 5405);
        assert_eq!(visibility(u32::MAX), 43_200);
    }
}
