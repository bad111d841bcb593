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
