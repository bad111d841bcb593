//! `fangops companies add|remove|rename` on a real env file: the list changes, nothing
//! else does, bad input writes nothing.

use crate::support::{Project, fangops, run};

const FILE: &str = r#"# yaml-language-server: $schema=env.schema.json
stack: fang-dev            # every name derives from it
region: us-east-1

companies:
  # the originals
  - Amazon
  - Apple      # added 2019
  - Netflix

alarms:
  email: team@example.com
"#;

fn listing(project: &Project) -> Vec<String> {
    let dir = std::fs::read_dir(project.path().join("environments")).unwrap();
    let mut names: Vec<String> = dir
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn add_remove_rename_edit_only_the_list() {
    let project = Project::new();
    let path = project.env_file("dev", FILE);
    let names = project.path().join("new.txt");
    std::fs::write(&names, "# from the product team\nMeta\n\n  Alphabet  \n").unwrap();

    let out = run(fangops(project.path())
        .args(["companies", "add", "--env", "dev", "Microsoft", "--file"])
        .arg(&names));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "+ Microsoft\n+ Meta\n+ Alphabet\nenvironments/dev.yaml: updated, 6 companies\n"
    );
    let out = run(fangops(project.path()).args(["companies", "remove", "--env", "dev", "netflix"]));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(fangops(project.path()).args([
        "companies",
        "rename",
        "--env",
        "dev",
        "Alphabet",
        "Alphabet Inc.",
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        FILE.replace(
            "  - Amazon\n  - Apple      # added 2019\n  - Netflix\n",
            "  - Alphabet Inc.\n  - Amazon\n  - Apple      # added 2019\n  - Meta\n  - Microsoft\n"
        )
    );
    // The edited file validates, and no temporary file is left beside it.
    let out = run(fangops(project.path()).args(["validate", "--env", "dev"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(listing(&project), ["dev.yaml"]);
}

#[test]
fn bad_input_writes_nothing() {
    let project = Project::new();
    let path = project.env_file("dev", FILE);
    let before = std::fs::read(&path).unwrap();
    for args in [
        &["companies", "add", "--env", "dev", "Evil\u{202E}Corp"][..],
        &["companies", "remove", "--env", "dev", "Apple", "Appel"],
        &["companies", "rename", "--env", "dev", "Apple", "amazon"],
    ] {
        let out = run(fangops(project.path()).args(args));
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("environments/dev.yaml"),
            "{}",
            out.stderr
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{args:?} changed the file"
        );
    }
    let out = run(fangops(project.path()).args([
        "companies",
        "add",
        "--env",
        "dev",
        "--dry-run",
        "Meta",
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("would be updated (dry run), 4 companies"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(listing(&project), ["dev.yaml"]);
}

/// A Wikipedia stand-in with one page of each kind `companies check` tells apart.
async fn wikipedia() -> wiremock::MockServer {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let page = |title: &str, kind: &str, description: &str| {
        serde_json::json!({
            "type": kind, "title": title,
            "titles": {"normalized": title},
            "description": description,
            "extract": format!("{title} is something."),
            "content_urls": {"desktop": {"page": format!("https://en.wikipedia.org/wiki/{title}")}}
        })
    };
    Mock::given(path("/page/summary/Spotify"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            "Spotify",
            "standard",
            "Swedish audio streaming service",
        )))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Amazon"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            "Amazon",
            "disambiguation",
            "Topics referred to by the same term",
        )))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Nonexistent_Corp"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Facebook"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "/page/summary/Meta_Platforms"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/page/summary/Meta_Platforms"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            "Meta Platforms",
            "standard",
            "American technology company",
        )))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn check_gives_each_company_a_verdict_and_the_fix() {
    let wiki = wikipedia().await;
    let project = Project::new();
    project.env_file(
        "dev",
        "stack: fang-dev\nregion: us-east-1\ncompanies:\n  - Spotify\n  - Amazon\n  - Nonexistent Corp\n  - Facebook\n",
    );
    let check = |json: bool| {
        let mut cmd = fangops(project.path());
        cmd.args(["companies", "check", "--env", "dev"])
            .env("WIKIPEDIA_BASE_URL", wiki.uri());
        if json {
            cmd.arg("--json");
        }
        run(&mut cmd)
    };
    let out = check(true);
    assert_eq!(out.code, 3, "{out:?}");
    let j = out.json();
    let verdict = |company: &str| {
        j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["company"] == company)
            .unwrap()
            .clone()
    };
    assert_eq!(verdict("Spotify")["verdict"], "ok");
    assert_eq!(
        verdict("Spotify")["description"],
        "Swedish audio streaming service"
    );
    assert_eq!(verdict("Amazon")["verdict"], "disambiguation");
    assert_eq!(
        verdict("Amazon")["write"],
        "- {name: Amazon, wikipedia: Amazon (company)}"
    );
    assert_eq!(verdict("Nonexistent Corp")["verdict"], "missing");
    let facebook = verdict("Facebook");
    assert_eq!(facebook["verdict"], "redirected");
    assert_eq!(facebook["title"], "Meta Platforms");
    assert_eq!(
        facebook["write"],
        "- {name: Facebook, wikipedia: Meta Platforms}"
    );

    let text = check(false).stdout;
    assert!(text.contains("3 to fix"), "{text}");
    assert!(
        text.contains(
            "Facebook: Facebook → Meta Platforms (American technology company) [redirected]"
        ),
        "{text}"
    );

    // The fix, written with `companies add --wikipedia`, passes the check.
    let out = run(fangops(project.path()).args([
        "companies",
        "add",
        "--env",
        "dev",
        "--wikipedia",
        "Meta Platforms",
        "Facebook",
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    let j = check(true).json();
    let facebook = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["company"] == "Facebook")
        .unwrap()
        .clone();
    assert_eq!(facebook["verdict"], "ok", "{facebook}");
}

#[test]
fn wikipedia_goes_with_one_name() {
    let project = Project::new();
    project.env_file("dev", FILE);
    let out = run(fangops(project.path()).args([
        "companies",
        "add",
        "--env",
        "dev",
        "--wikipedia",
        "Apple Inc.",
        "Apple",
        "Spotify",
    ]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("exactly one company name"),
        "{}",
        out.stderr
    );
    let after = std::fs::read_to_string(project.path().join("environments/dev.yaml")).unwrap();
    assert_eq!(after, FILE, "nothing changed");
}
