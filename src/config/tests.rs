//! Env-file parsing: every kind of bad input a person or a tool produces, each pinned to
//! its location and message; and what people produce innocently, accepted as clean.

use std::path::Path;

use super::*;

const FILE: &str = "environments/test.yaml";

fn parse_str(text: &str) -> Result<EnvConfig, InvalidInput> {
    parse(Path::new(FILE), text.as_bytes())
}

/// Parses `text`, expects failure, and returns the rendered diagnostics.
fn errors(text: &str) -> Vec<String> {
    errors_bytes(text.as_bytes())
}

fn errors_bytes(bytes: &[u8]) -> Vec<String> {
    match parse(Path::new(FILE), bytes) {
        Ok(cfg) => panic!("expected an error, parsed {cfg:?}"),
        Err(InvalidInput(diags)) => diags.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts exactly one diagnostic, at `loc` (`line:col`), containing `needle`.
#[track_caller]
fn assert_one(text: &str, loc: &str, needle: &str) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let prefix = format!("{FILE}:{loc}: ");
    assert!(
        errs[0].starts_with(&prefix),
        "expected {prefix:?}, got {:?}",
        errs[0]
    );
    assert!(
        errs[0].contains(needle),
        "expected {needle:?} in {:?}",
        errs[0]
    );
}

const VALID: &str = "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  - Apple\n";

#[test]
fn valid_minimal_file_gets_documented_defaults() {
    let cfg = parse_str(VALID).unwrap();
    assert_eq!(cfg.name, "test");
    assert_eq!(cfg.stack, "fang-test");
    assert_eq!(cfg.schedule.to_string(), defaults::SCHEDULE);
    assert_eq!(cfg.lambda.memory_mb, defaults::LAMBDA_MEMORY_MB);
    assert_eq!(cfg.lambda.timeout_s, defaults::LAMBDA_TIMEOUT_S);
    assert_eq!(cfg.lambda.arch, Arch::Arm64);
    assert_eq!(cfg.sentiment, Analyzer::Comprehend);
    assert_eq!(cfg.text_source, TextSource::Wikipedia);
    assert_eq!(
        cfg.alarms.dlq_messages.threshold,
        defaults::ALARM_DLQ_MESSAGES
    );
    assert_eq!(cfg.alarms.no_results.period_s, 86_400 + 3600);
    assert!(cfg.alarms.no_results.enabled);
    assert!(!cfg.protected);
    assert!(!cfg.is_local());
    assert_eq!(
        cfg.companies.names().collect::<Vec<_>>(),
        ["Amazon", "Apple"]
    );
}

#[test]
fn full_file_parses_every_key() {
    let cfg = parse_str(
        "stack: fang-dev\nregion: eu-west-1\naccount: \"012345678901\"\nendpoint_url: http://127.0.0.1:4566\nprotected: true\nschedule: cron(0 6 ? * MON-FRI *)\nlambda: { memory_mb: 512, timeout_s: 30, arch: x86_64 }\nsentiment: vader\ntext_source: fixtures\nalarms:\n  email: team@example.com\n  dlq_messages: { threshold: 5 }\n  errors: { threshold: 2, period_s: 60, evaluation_periods: 3 }\n  oldest_message_age_s: { threshold: 600 }\n  throttles: { enabled: false }\n  dashboard: false\nsync: { max_delete_percent: 10 }\ncompanies: [Netflix]\n",
    )
    .unwrap();
    assert_eq!(cfg.account.as_deref(), Some("012345678901"));
    assert!(cfg.is_local());
    assert!(cfg.protected);
    assert_eq!(
        cfg.lambda,
        LambdaConfig {
            memory_mb: 512,
            timeout_s: 30,
            arch: Arch::X86_64,
            max_concurrency: 5,
        }
    );
    assert_eq!(cfg.sentiment, Analyzer::Vader);
    assert_eq!(cfg.text_source, TextSource::Fixtures);
    assert_eq!(cfg.alarms.email.as_deref(), Some("team@example.com"));
    assert_eq!(cfg.alarms.oldest_message_age_s.threshold, 600.0);
    assert_eq!(cfg.alarms.dlq_messages.threshold, 5.0);
    assert_eq!(
        cfg.alarms.errors,
        crate::config::AlarmSetting {
            enabled: true,
            threshold: 2.0,
            period_s: 60,
            evaluation_periods: 3
        }
    );
    assert!(!cfg.alarms.throttles.enabled);
    assert!(!cfg.alarms.dashboard);
    assert_eq!(cfg.sync.max_delete_percent, 10);
    // Weekdays at 06:00: the longest gap is Friday to Monday, plus an hour of slack.
    assert_eq!(cfg.alarms.no_results.period_s, 3 * 86_400 + 3600);
}

#[test]
fn bad_alarm_settings_name_file_line_and_key() {
    let errs = errors(
        "stack: fang-test\nregion: us-east-1\nalarms:\n  email: not-an-address\n  errors: { threshold: -1 }\n  dlq_messages: { period_s: 90 }\n  throttles: { period_s: 300, evaluation_periods: 300 }\n  sentiment_duration_percent: { threshold: 120 }\ncompanies: [A]\n",
    );
    let want = [
        ("4:10", "alarms.email", "not-an-address"),
        ("5:24", "alarms.errors.threshold", "-1 is not a threshold"),
        (
            "6:29",
            "alarms.dlq_messages.period_s",
            "90 s is not a CloudWatch alarm period",
        ),
        (
            "7:51",
            "alarms.throttles.evaluation_periods",
            "CloudWatch allows at most 86400 s",
        ),
        (
            "8:44",
            "alarms.sentiment_duration_percent.threshold",
            "can never be reached",
        ),
    ];
    assert_eq!(errs.len(), want.len(), "{errs:#?}");
    for (shown, (pos, key, text)) in errs.iter().zip(want) {
        assert!(
            shown.starts_with(&format!("{FILE}:{pos}: `{key}`: ")),
            "{shown}"
        );
        assert!(shown.contains(text), "{shown}");
    }
}

#[test]
fn unknown_alarm_key_is_located_with_a_suggestion() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nalarms:\n  error: { threshold: 1 }\ncompanies: []\n",
        "4:3",
        "unknown field `error`",
    );
}

// ---- bad input: structure -------------------------------------------------------

#[test]
fn unknown_top_level_key() {
    assert_one(
        "stack: fang-test\nregoin: us-east-1\ncompanies: []\n",
        "2:1",
        "unknown field `regoin`, expected one of",
    );
}

#[test]
fn unknown_nested_key_names_its_path() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nlambda:\n  memory_mb: 256\n  timeout: 30\ncompanies: []\n",
        "5:3",
        "unknown field `timeout`",
    );
}

#[test]
fn wrong_type_names_the_key() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nlambda:\n  memory_mb: lots\ncompanies: []\n",
        "4:14",
        "`lambda.memory_mb`: invalid u32",
    );
}

#[test]
fn companies_not_a_list() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies: Amazon\n",
        "3:12",
        "`companies`",
    );
}

#[test]
fn company_entry_with_its_wikipedia_page() {
    let cfg = parse_str(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  - {name: Apple, wikipedia: \"Apple Inc.\"}\n  - name: Alphabet\n    wikipedia: Alphabet Inc.\n  - name: Netflix\n",
    )
    .unwrap();
    let apple = cfg.companies.get("Apple").unwrap();
    assert_eq!(apple.wikipedia.as_deref(), Some("Apple Inc."));
    assert_eq!(apple.page(), "Apple Inc.");
    assert_eq!(
        cfg.companies.get("Alphabet").unwrap().page(),
        "Alphabet Inc."
    );
    assert_eq!(cfg.companies.get("Netflix").unwrap().wikipedia, None);
    assert_eq!(cfg.companies.get("Amazon").unwrap().page(), "Amazon");
}

#[test]
fn comprehend_in_a_region_without_it() {
    assert_one(
        "stack: fang-test\nregion: eu-north-1\ncompanies: [A]\n",
        "2:9",
        "Amazon Comprehend is not offered in eu-north-1; use a region that has it (ap-northeast-1,",
    );
    // The embedded analyzer runs anywhere.
    assert!(
        parse_str("stack: fang-test\nregion: eu-north-1\nsentiment: vader\ncompanies: [A]\n")
            .is_ok()
    );
}

#[test]
fn results_kept_zero_days() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nresults:\n  retention_days: 0\ncompanies: [A]\n",
        "4:19",
        "0 days would delete results as they are written",
    );
    let cfg = parse_str(
        "stack: fang-test\nregion: us-east-1\nresults: { retention_days: 90 }\ncompanies: [A]\n",
    )
    .unwrap();
    assert_eq!(cfg.results.retention_days, Some(90));
}

#[test]
fn max_concurrency_out_of_range() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nlambda:\n  max_concurrency: 1\ncompanies: [A]\n",
        "4:20",
        "outside what an SQS event source mapping allows (2 to 1000)",
    );
}

#[test]
fn company_mapping_without_a_name() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  - wikipedia: Apple Inc.\n",
        "5:5",
        "missing field `name`",
    );
}

#[test]
fn company_mapping_with_an_unknown_key() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - {name: Apple, wikipdia: Apple Inc.}\n",
        "4:19",
        "unknown field `wikipdia`",
    );
    let errs = errors(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - {name: Apple, wikipdia: Apple Inc.}\n",
    );
    assert!(errs[0].contains("did you mean `wikipedia`?"), "{errs:?}");
}

#[test]
fn company_mapping_with_an_empty_title() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  - {name: Apple, wikipedia: \"  \"}\n",
        "5:30",
        "`wikipedia` is empty",
    );
}

#[test]
fn company_title_with_a_character_no_title_has() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - {name: Apple, wikipedia: \"Apple [company]\"}\n",
        "4:30",
        "no Wikipedia title can",
    );
}

#[test]
fn two_entries_reading_one_page() {
    let errs = errors(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Apple Inc.\n  - {name: Apple, wikipedia: Apple_Inc.}\n",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].contains(":5:") && errs[0].contains("as \"Apple Inc.\" on line 4"),
        "{errs:?}"
    );
}

#[test]
fn null_company_entry() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  -\n",
        "5:4",
        "`companies[1]`",
    );
}

#[test]
fn invalid_yaml() {
    assert_one(
        "stack: fang-test\nregion: [us-east-1\ncompanies: []\n",
        "2:9",
        "`region`",
    );
}

#[test]
fn empty_file() {
    assert_one("", "1:1", "file is empty");
    assert_one("\u{feff}\n  \n", "1:1", "file is empty");
}

#[test]
fn missing_required_key() {
    assert_one(
        "stack: fang-test\ncompanies: []\n",
        "2:1",
        "missing field `region`",
    );
}

#[test]
fn unknown_enum_value() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nlambda: { arch: arm }\ncompanies: []\n",
        "3:17",
        "`lambda.arch`",
    );
}

#[test]
fn duplicate_keys() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nstack: fang-other\ncompanies: []\n",
        "3:1",
        "duplicate mapping key: stack",
    );
}

#[test]
fn alias_bomb_is_rejected_by_the_budget() {
    let mut bomb = String::from(
        "stack: fang-test\nregion: us-east-1\ncompanies: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nlambda:\n",
    );
    for i in 1..=12 {
        let p = i - 1;
        bomb += &format!(
            "  x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        );
    }
    let errs = errors(&bomb);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    // Either the budget or strict typing stops it; the point is that it stops, early.
    assert!(
        errs[0].contains("too many anchors, aliases or nodes") || errs[0].contains("unknown field"),
        "{}",
        errs[0]
    );
    // Aliases of a scalar type-check as strings, so only the budget can stop these.
    let mut many_aliases = String::from("stack: &s fang-test\nregion: us-east-1\ncompanies: [");
    many_aliases.push_str(&"*s, ".repeat(200));
    many_aliases.push_str("]\n");
    let errs = errors(&many_aliases);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].contains("too many anchors, aliases or nodes"),
        "{}",
        errs[0]
    );
}

#[test]
fn tab_indentation() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n\t- Amazon\n",
        "4:2",
        "indent with spaces",
    );
}

#[test]
fn not_utf8() {
    let errs = errors_bytes(
        b"stack: fang-test\nregion: us-east-1\ncompanies:\n  - Soci\xe9t\xe9 G\xe9n\xe9rale\n",
    );
    assert_eq!(
        errs,
        [format!(
            "{FILE}:4:9: file is not valid UTF-8 (byte 0xE9); save it as UTF-8"
        )]
    );
}

#[test]
fn two_documents() {
    let errs = errors("stack: fang-test\nregion: us-east-1\ncompanies: []\n---\nstack: other\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

// ---- bad input: values ----------------------------------------------------------

#[test]
fn duplicate_companies_differing_by_case() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Amazon\n  - Apple\n  - AMAZON\n",
        "6:5",
        "duplicate company \"AMAZON\": same as \"Amazon\" on line 4",
    );
}

#[test]
fn duplicate_companies_differing_by_spacing() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - Meta Platforms\n  - \"  Meta   Platforms \"\n",
        "5:5",
        "same as \"Meta Platforms\" on line 4",
    );
}

#[test]
fn control_character_in_company() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - \"Ama\\u0007zon\"\n",
        "4:5",
        "`companies`: company name contains the control character U+0007",
    );
}

#[test]
fn empty_company_name() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - \"  \"\n",
        "4:5",
        "company name is empty",
    );
}

#[test]
fn company_name_of_300_bytes() {
    let text = format!(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - {}\n",
        "x".repeat(300)
    );
    assert_one(&text, "4:5", "300 bytes long; at most 256");
}

#[test]
fn bidi_override_in_company() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - \"Apple\\u202Eelgoog\"\n",
        "4:5",
        "U+202E",
    );
}

#[test]
fn endpoint_url_that_is_not_a_url() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nendpoint_url: localhost:4566/\ncompanies: []\n",
        "3:15",
        "`endpoint_url`: \"localhost:4566/\" is not an http or https URL",
    );
    assert_one(
        "stack: fang-test\nregion: us-east-1\nendpoint_url: not a url\ncompanies: []\n",
        "3:15",
        "is not a URL",
    );
}

#[test]
fn region_that_does_not_exist() {
    assert_one(
        "stack: fang-test\nregion: us-east-7\ncompanies: []\n",
        "2:9",
        "`region`: unknown AWS region \"us-east-7\"; did you mean \"us-east-1\"?",
    );
}

#[test]
fn invalid_stack_name() {
    assert_one(
        "stack: Fang_Dev\nregion: us-east-1\ncompanies: []\n",
        "1:8",
        "is not a valid stack name",
    );
    assert_one(
        &format!(
            "stack: {}\nregion: us-east-1\ncompanies: []\n",
            "a".repeat(33)
        ),
        "1:8",
        "at most 32",
    );
}

#[test]
fn account_that_is_not_twelve_digits() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\naccount: 1234\ncompanies: []\n",
        "3:10",
        "is not an AWS account id",
    );
}

#[test]
fn bad_schedule() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nschedule: rate(1 days)\ncompanies: []\n",
        "3:11",
        "EventBridge requires rate(1 day)",
    );
}

#[test]
fn bad_email() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nalarms: { email: data-team }\ncompanies: []\n",
        "3:18",
        "`alarms.email`: \"data-team\" is not an e-mail address",
    );
}

#[test]
fn memory_out_of_range() {
    assert_one(
        "stack: fang-test\nregion: us-east-1\nlambda: { memory_mb: 64 }\ncompanies: []\n",
        "3:22",
        "64 MB is outside what Lambda allows",
    );
}

#[test]
fn every_value_problem_is_reported_in_file_order() {
    let errs = errors(
        "stack: fang-test\nregion: us-east-7\nalarms: { email: nobody }\ncompanies:\n  - Apple\n  - \"\"\n  - apple\n",
    );
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert!(errs[0].contains(":2:9:"), "{}", errs[0]);
    assert!(errs[1].contains(":3:18:"), "{}", errs[1]);
    assert!(errs[2].contains(":6:5:"), "{}", errs[2]);
    assert!(errs[3].contains(":7:5:"), "{}", errs[3]);
}

// ---- accepted: what people produce innocently -----------------------------------

#[test]
fn bom_and_crlf_parse_exactly_like_a_clean_file() {
    let clean = parse_str(VALID).unwrap();
    for variant in [
        format!("\u{feff}{VALID}"),
        VALID.replace('\n', "\r\n"),
        format!("\u{feff}{}", VALID.replace('\n', "\r\n")),
    ] {
        let cfg = parse_str(&variant).unwrap();
        assert_eq!(cfg.stack, clean.stack);
        assert_eq!(cfg.companies, clean.companies, "{variant:?}");
    }
}

#[test]
fn lines_are_right_with_bom_and_crlf() {
    let text = format!(
        "\u{feff}{}",
        "stack: fang-test\nregion: us-east-1\ncompanies:\n  - A\n  - a\n".replace('\n', "\r\n")
    );
    let errs = errors(&text);
    assert!(errs[0].starts_with(&format!("{FILE}:5:5:")), "{}", errs[0]);
}

#[test]
fn names_in_any_script() {
    let cfg = parse_str(
        "stack: fang-test\nregion: ap-northeast-1\ncompanies:\n  - トヨタ自動車\n  - Сбербанк\n  - 삼성전자\n  - טבע\n  - Ørsted\n  - \"Nestle\\u0301\"\n",
    )
    .unwrap();
    let names: Vec<_> = cfg.companies.names().collect();
    assert_eq!(names.len(), 6);
    assert!(names.contains(&"Nestl\u{e9}"), "NFC applied: {names:?}");
}

#[test]
fn order_does_not_matter() {
    let a = parse_str("stack: s\nregion: us-east-1\ncompanies: [B, A, C]\n").unwrap();
    let b = parse_str("stack: s\nregion: us-east-1\ncompanies: [C, B, A]\n").unwrap();
    assert_eq!(a.companies, b.companies.clone());
    assert_eq!(a.companies.names().collect::<Vec<_>>(), ["A", "B", "C"]);
}

#[test]
fn env_ref_name_or_path() {
    let root = Path::new("/repo");
    assert_eq!(
        EnvRef::parse("dev").path(root),
        Path::new("/repo/environments/dev.yaml")
    );
    assert_eq!(
        EnvRef::parse("x/dev.yaml").path(root),
        Path::new("/repo/x/dev.yaml")
    );
    assert_eq!(EnvRef::parse("other.yml"), EnvRef::Path("other.yml".into()));
    assert_eq!(
        EnvRef::parse("/abs/e.yaml").path(root),
        Path::new("/abs/e.yaml")
    );
}

#[test]
fn shipped_env_files_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(ENV_DIR);
    for name in ["local", "dev", "prod"] {
        let cfg =
            load(&dir.join(format!("{name}.yaml"))).unwrap_or_else(|e| panic!("{name}.yaml: {e}"));
        assert!(!cfg.companies.is_empty(), "{name}");
    }
    assert!(load(&dir.join("local.yaml")).unwrap().is_local());
    assert!(load(&dir.join("prod.yaml")).unwrap().protected);
}

#[test]
fn env_file_at_a_git_revision() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir(dir.path().join("environments")).unwrap();
    let path = dir.path().join("environments/dev.yaml");
    std::fs::write(&path, VALID).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    std::fs::write(&path, VALID.replace("Apple", "Spotify")).unwrap();

    let base = super::load_at_rev(&path, "main").unwrap().unwrap();
    assert!(base.companies.names().any(|n| n == "Apple"));
    assert_eq!(base.name, "dev");
    let new_env = dir.path().join("environments/new.yaml");
    std::fs::write(&new_env, VALID).unwrap();
    assert!(super::load_at_rev(&new_env, "main").unwrap().is_none());
    let other = super::load_at_rev(&path, &format!("file:{}", new_env.display()))
        .unwrap()
        .unwrap();
    assert!(other.companies.names().any(|n| n == "Apple"));
    assert!(
        super::load_at_rev(&path, "file:/no/such.yaml")
            .unwrap()
            .is_none()
    );
    let err = super::load_at_rev(&path, "no-such-branch").unwrap_err();
    assert!(format!("{err:#}").contains("no-such-branch"), "{err:#}");
}

#[test]
fn cloudformation_role_is_a_role_name_or_arn() {
    let base = "stack: fang-prod\nregion: eu-west-1\ncompanies: [A]\n";
    let cfg = parse_str(&format!(
        "{base}cloudformation_role: fang-prod-cloudformation\n"
    ))
    .unwrap();
    assert_eq!(
        cfg.cloudformation_role_arn("123456789012").as_deref(),
        Some("arn:aws:iam::123456789012:role/fang-prod-cloudformation")
    );
    let arn = "arn:aws:iam::210987654321:role/deployer";
    let cfg = parse_str(&format!("{base}cloudformation_role: {arn}\n")).unwrap();
    assert_eq!(
        cfg.cloudformation_role_arn("123456789012").as_deref(),
        Some(arn)
    );
    assert_eq!(parse_str(base).unwrap().cloudformation_role_arn("1"), None);
    assert_one(
        &format!("{base}cloudformation_role: \"not a role\"\n"),
        "4:22",
        "`cloudformation_role`: \"not a role\" is neither an IAM role name",
    );
}

#[test]
fn verify_defaults_follow_protection_and_the_list() {
    let dev = parse_str("stack: fang-dev\nregion: us-east-1\ncompanies: [Zeta, Apple]\n").unwrap();
    assert!(!dev.verify.enabled, "off for a non-protected env");
    assert_eq!(
        dev.verify.companies,
        ["Zeta"],
        "the first company as written"
    );
    // One retry of a canary's message: the visibility timeout (6 x 60 + 5) and another
    // function timeout, plus a minute.
    assert_eq!(dev.verify.timeout_s, 365 + 60 + 60);
    assert_eq!(dev.verify.alarm_watch_s, defaults::VERIFY_ALARM_WATCH_S);
    let prod =
        parse_str("stack: fang-prod\nregion: us-east-1\nprotected: true\ncompanies: [Apple]\n")
            .unwrap();
    assert!(prod.verify.enabled, "on for a protected env");
    let local = parse_str(
        "stack: fang-local\nregion: us-east-1\nendpoint_url: http://127.0.0.1:4566\ncompanies: [Apple]\n",
    )
    .unwrap();
    assert_eq!(
        local.verify.alarm_watch_s, 0,
        "an emulator evaluates no alarm"
    );
    assert_eq!(local.verify.timeout_s, defaults::VERIFY_TIMEOUT_S);
    let set = parse_str(
        "stack: fang-dev\nregion: us-east-1\nverify:\n  enabled: true\n  companies: [' apple  inc ', Apple Inc]\n  timeout_s: 60\n  alarm_watch_s: 30\ncompanies: [Apple Inc, Zeta]\n",
    );
    let set = set.unwrap().verify;
    assert!(set.enabled);
    assert_eq!(set.companies.len(), 1, "{:?}", set.companies);
    assert_eq!((set.timeout_s, set.alarm_watch_s), (60, 30));
}

#[test]
fn a_canary_must_be_a_listed_company_and_the_timeout_usable() {
    assert_one(
        "stack: fang-dev\nregion: us-east-1\nverify:\n  companies: [Spotify]\ncompanies: [Apple]\n",
        "4:15",
        "\"Spotify\" is not in `companies`",
    );
    assert_one(
        "stack: fang-dev\nregion: us-east-1\nverify:\n  timeout_s: 5\ncompanies: [Apple]\n",
        "4:14",
        "verify.timeout_s",
    );
    let errs = errors(
        "stack: fang-dev\nregion: us-east-1\nverify:\n  companies: []\ncompanies: [Apple]\n",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains("verify.companies is empty"), "{errs:#?}");
}

#[test]
fn the_cache_is_on_for_a_week_unless_told_otherwise() {
    let on = parse_str("stack: fang-dev\nregion: us-east-1\ncompanies: [A]\n").unwrap();
    assert!(on.cache.enabled);
    assert_eq!(on.cache.max_age_parameter(), 7);
    let off = parse_str(
        "stack: fang-dev\nregion: us-east-1\ncache: {enabled: false, max_age_days: 3}\ncompanies: [A]\n",
    )
    .unwrap();
    assert_eq!(off.cache.max_age_parameter(), 0, "the template's off");
    assert_one(
        "stack: fang-dev\nregion: us-east-1\ncache:\n  max_age_days: 0\ncompanies: [A]\n",
        "4:17",
        "cache.max_age_days",
    );
}
