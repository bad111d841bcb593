//! The JSON Schema of env files, generated from [`super::raw::RawEnvFile`].
//!
//! Committed as `environments/env.schema.json` so editors (the YAML language server) can
//! complete and check env files; a test fails when the committed copy is stale.

/// Where the schema is committed, relative to the project root.
pub const SCHEMA_PATH: &str = "environments/env.schema.json";

/// The command that regenerates the committed schema.
pub const REGENERATE: &str = "cargo run -q -- schema --out environments/env.schema.json";

/// The schema as pretty JSON with a trailing newline.
pub fn render() -> String {
    let schema = schemars::schema_for!(super::raw::RawEnvFile);
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::SCHEMA_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == super::render(),
            "{} is stale: regenerate it with `{}`",
            super::SCHEMA_PATH,
            super::REGENERATE
        );
    }
}
