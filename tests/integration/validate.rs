//! `fangops validate` as a user runs it: exit codes, `file:line:col` output, every
//! error across every file, `--json`. The parser's cases are unit tests in
//! `src/config/tests.rs`; these check what reaches the terminal.

use crate::support::{Project, fangops, repo_root, run};

#[test]
fn shipped_env_files_pass() {
    let out = run(fangops(repo_root()).arg("validate"));
    assert_eq!(out.code, 0, "{out:?}");
    for env in ["local", "dev", "prod"] {
        assert!(
            out.stdout.contains(&format!("ok environments/{env}.yaml")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn one_env_by_name_or_path() {
    let out = run(fangops(repo_root()).args(["validate", "--env", "local"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let out = run(fangops(repo_root()).args(["validate", "--env", "environments/prod.yaml"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("fang-prod"), "{}", out.stdout);
}

#[test]
fn every_error_in_every_file_with_exit_2() {
    let p = Project::new();
    p.env_file(
        "good",
        "stack: fang-good\nregion: us-east-1\ncompanies: [Apple]\n",
    );
    p.env_file("bad1", "stack: fang-bad\nregion: us-east-7\nalarms: { email: nobody }\ncompanies: [Apple, APPLE]\n");
    p.env_file(
        "bad2",
        "stack: fang-bad\nregoin: us-east-1\ncompanies: []\n",
    );
    let out = run(fangops(p.path()).arg("validate"));
    assert_eq!(out.code, 2, "{out:?}");
    let errors: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "error: environments/bad1.yaml:2:9: `region`: unknown AWS region \"us-east-7\"; did you mean \"us-east-1\"?",
            "error: environments/bad1.yaml:3:18: `alarms.email`: \"nobody\" is not an e-mail address",
            "error: environments/bad1.yaml:4:20: `companies`: duplicate company \"APPLE\": same as \"Apple\" on line 4 (names are compared after trimming, Unicode NFC, collapsing spaces and ignoring case)",
            "error: environments/bad2.yaml:2:1: unknown field `regoin`, expected one of stack, region, account, endpoint_url, cloudformation_role, protected, schedule, lambda, sentiment, text_source, alarms, sync, results, cost, cache, verify, previews, companies; did you mean `region`?",
        ]
    );
    assert!(
        out.stdout.contains("ok environments/good.yaml"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("4 error(s) in 2 of 4 file(s)"),
        "{}",
        out.stdout
    );
}

#[test]
fn json_output_has_the_same_errors() {
    let p = Project::new();
    p.env_file(
        "bad",
        "stack: fang-bad\nregion: us-east-1\nlambda: { memory_mb: lots }\ncompanies: []\n",
    );
    let out = run(fangops(p.path()).args(["validate", "--json"]));
    assert_eq!(out.code, 2, "{out:?}");
    let v = out.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["file"], "environments/bad.yaml");
    assert_eq!(v["errors"][0]["line"], 3);
    assert_eq!(v["errors"][0]["column"], 22);
    assert_eq!(v["errors"][0]["key"], "lambda.memory_mb");
    // The template comes first, then the env files.
    assert_eq!(v["files"][0]["file"], "infra/template.yaml");
    assert_eq!(v["files"][0]["ok"], true);
    assert_eq!(v["files"][1]["ok"], false);
}

#[test]
fn template_wildcards_and_unfillable_parameters_are_errors() {
    let p = Project::new();
    p.env_file(
        "good",
        "stack: fang-good\nregion: us-east-1\ncompanies: [A]\n",
    );
    let template = std::fs::read_to_string(p.template_path()).unwrap();
    let template = template
        .replacen("Action: dynamodb:Scan", "Action: \"dynamodb:*\"", 1)
        .replacen(
            "Parameters:\n",
            "Parameters:\n  Extra:\n    Type: String\n",
            1,
        );
    std::fs::write(p.template_path(), template).unwrap();
    let out = run(fangops(p.path()).args(["validate"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout.contains("infra/template.yaml:")
            && out.stdout.contains("allows every action (`dynamodb:*`)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("`Parameters.Extra`: parameter `Extra` has no default"),
        "{}",
        out.stdout
    );
}

#[test]
fn missing_env_file() {
    let out = run(fangops(repo_root()).args(["validate", "--env", "staging"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("error: environments/staging.yaml: file not found"),
        "{}",
        out.stdout
    );
}

#[test]
fn no_env_files_at_all() {
    let p = Project::new();
    let out = run(fangops(p.path()).arg("validate"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("no env files found"), "{}", out.stdout);
}

#[test]
fn non_utf8_file_is_located() {
    let p = Project::new();
    p.env_file(
        "latin1",
        b"stack: fang-x\nregion: us-east-1\ncompanies:\n  - Nestl\xe9\n".as_slice(),
    );
    let out = run(fangops(p.path()).arg("validate"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("environments/latin1.yaml:4:10: file is not valid UTF-8 (byte 0xE9)"),
        "{}",
        out.stdout
    );
}

#[test]
fn bom_crlf_file_is_accepted() {
    let p = Project::new();
    p.env_file("windows", "\u{feff}stack: fang-win\r\nregion: us-east-1\r\ncompanies:\r\n  - Société Générale\r\n  - トヨタ自動車\r\n");
    let out = run(fangops(p.path()).arg("validate"));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("(stack fang-win, 2 companies)"),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_error_exits_2() {
    let out = run(fangops(repo_root()).args(["validate", "--nope"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("unexpected argument '--nope'"),
        "{}",
        out.stderr
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = run(fangops(repo_root()).arg("schema"));
    assert_eq!(out.code, 0, "{out:?}");
    let committed =
        std::fs::read_to_string(repo_root().join("environments/env.schema.json")).unwrap();
    assert_eq!(out.stdout, committed);
}
