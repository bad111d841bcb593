//! The CloudFormation template, `infra/template.yaml`, read and checked before any
//! AWS call: a syntax error or a parameter fangops cannot fill is a located error
//! here, not a failed change set later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::config::raw::yaml_diagnostic;
use crate::diagnostics::{Diagnostic, InvalidInput};

/// Where the template lives, relative to the project root.
pub const TEMPLATE_PATH: &str = "infra/template.yaml";

/// CloudFormation's limit for a template passed inline (TemplateBody).
const MAX_INLINE_BYTES: usize = 51_200;

#[derive(Debug, Clone)]
pub struct Template {
    pub path: PathBuf,
    pub body: String,
    /// Declared parameters, by name.
    pub parameters: BTreeMap<String, Parameter>,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub has_default: bool,
    pub line: u64,
}

#[derive(Deserialize)]
struct RawTemplate {
    #[serde(rename = "Parameters", default)]
    parameters: BTreeMap<String, Spanned<RawParameter>>,
    #[serde(rename = "Resources")]
    resources: Spanned<BTreeMap<String, IgnoredAny>>,
}

#[derive(Deserialize)]
struct RawParameter {
    #[serde(rename = "Type")]
    _kind: String,
    #[serde(rename = "Default")]
    default: Option<IgnoredAny>,
}

pub fn load(path: &Path) -> Result<Template, InvalidInput> {
    let body = std::fs::read_to_string(path).map_err(|e| {
        InvalidInput(vec![Diagnostic::whole_file(
            path,
            format!("cannot read the template: {e}"),
        )])
    })?;
    parse(path, body)
}

pub fn parse(path: &Path, body: String) -> Result<Template, InvalidInput> {
    let one = |d: Diagnostic| InvalidInput(vec![d]);
    let mut key_path = String::new();
    // CloudFormation's short forms (`!Ref`, `!Sub`, ...) are YAML tags; the parser
    // keeps them on values that are skipped here.
    let raw: RawTemplate = serde_saphyr::with_deserializer_from_str(&body, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            key_path = e.path().to_string().replace(".value", "");
            e.into_inner()
        })
    })
    .map_err(|e| one(yaml_diagnostic(path, e, key_path)))?;
    if raw.resources.value.is_empty() {
        return Err(one(Diagnostic::new(
            path,
            raw.resources.referenced.line(),
            raw.resources.referenced.column(),
            "the template declares no resources",
        )
        .with_key("Resources")));
    }
    if body.len() > MAX_INLINE_BYTES {
        return Err(one(Diagnostic::whole_file(
            path,
            format!(
                "the template is {} bytes; CloudFormation takes at most {MAX_INLINE_BYTES} inline",
                body.len()
            ),
        )));
    }
    let parameters = raw
        .parameters
        .into_iter()
        .map(|(name, p)| {
            let param = Parameter {
                has_default: p.value.default.is_some(),
                line: p.referenced.line(),
            };
            (name, param)
        })
        .collect();
    Ok(Template {
        path: path.to_path_buf(),
        body,
        parameters,
    })
}

impl Template {
    /// Every parameter without a default must be set, and every parameter set must be
    /// declared: CloudFormation would refuse either, after the upload.
    pub fn check_parameters<'a>(
        &self,
        supplied: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<(), InvalidInput> {
        let mut diags = Vec::new();
        for (name, p) in &self.parameters {
            if !p.has_default && !supplied.clone().into_iter().any(|s| s == name) {
                diags.push(
                    Diagnostic::new(
                        &self.path,
                        p.line,
                        1,
                        format!("parameter `{name}` has no default and fangops does not set it; give it a `Default`"),
                    )
                    .with_key(format!("Parameters.{name}")),
                );
            }
        }
        for name in supplied {
            if !self.parameters.contains_key(name) {
                diags.push(
                    Diagnostic::whole_file(
                        &self.path,
                        format!(
                            "fangops sets parameter `{name}`, which the template does not declare"
                        ),
                    )
                    .with_key(format!("Parameters.{name}")),
                );
            }
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(InvalidInput(diags))
        }
    }
}

/// Actions whose API takes no resource ARN, so `Resource: "*"` is the only way to
/// allow them.
const RESOURCE_STAR_OK: [&str; 2] = [
    "comprehend:DetectSentiment",
    "comprehend:BatchDetectSentiment",
];

impl Template {
    /// Least privilege, checked: an Allow statement of an IAM role or policy may not
    /// name every action of a service (`s3:*`, `*`), nor every resource (`*`) unless all
    /// its actions take no resource ARN.
    pub fn lint_iam(&self) -> Vec<Diagnostic> {
        let Ok(doc) = serde_saphyr::from_str::<serde_json::Value>(&self.body) else {
            return Vec::new(); // parse errors were reported by `parse`
        };
        let mut diags = Vec::new();
        let Some(resources) = doc.get("Resources").and_then(|r| r.as_object()) else {
            return diags;
        };
        for (logical, res) in resources {
            let props = &res["Properties"];
            let documents: Vec<(String, &serde_json::Value)> = match res["Type"].as_str() {
                Some("AWS::IAM::Role") => props["Policies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, p)| {
                        (
                            format!("Policies[{i}].PolicyDocument"),
                            &p["PolicyDocument"],
                        )
                    })
                    .collect(),
                Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => {
                    vec![("PolicyDocument".to_owned(), &props["PolicyDocument"])]
                }
                _ => continue,
            };
            for (doc_key, document) in documents {
                let statements = match &document["Statement"] {
                    serde_json::Value::Array(a) => a.iter().collect(),
                    v @ serde_json::Value::Object(_) => vec![v],
                    _ => Vec::new(),
                };
                for (i, st) in statements.into_iter().enumerate() {
                    if st["Effect"] != "Allow" {
                        continue;
                    }
                    let key = format!("Resources.{logical}.Properties.{doc_key}.Statement[{i}]");
                    let line = st["Sid"]
                        .as_str()
                        .and_then(|sid| self.line_of(&format!("Sid: {sid}")))
                        .or_else(|| self.line_of(&format!("  {logical}:")))
                        .unwrap_or(1);
                    let actions = strings(&st["Action"]);
                    for a in actions.iter().filter(|a| **a == "*" || a.ends_with(":*")) {
                        diags.push(
                            Diagnostic::new(&self.path, line, 1, format!(
                                "allows every action (`{a}`); list the actions the function calls"
                            ))
                            .with_key(key.clone()),
                        );
                    }
                    let star = strings(&st["Resource"]).contains(&"*");
                    if star && !actions.iter().all(|a| RESOURCE_STAR_OK.contains(a)) {
                        diags.push(
                            Diagnostic::new(&self.path, line, 1, format!(
                                "allows {} on every resource (`*`); name the ARNs it touches (only {} need `*`)",
                                actions.join(", "),
                                RESOURCE_STAR_OK.join(" and ")
                            ))
                            .with_key(key),
                        );
                    }
                }
            }
        }
        diags
    }

    fn line_of(&self, needle: &str) -> Option<u64> {
        self.body
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
    }
}

/// A string or a list of strings, as IAM allows for Action and Resource.
fn strings(v: &serde_json::Value) -> Vec<&str> {
    match v {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|s| s.as_str()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Template, InvalidInput> {
        parse(Path::new("infra/template.yaml"), s.to_owned())
    }

    #[test]
    fn the_shipped_template_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let t = load(&root.join(TEMPLATE_PATH)).unwrap();
        assert!(t.parameters.contains_key("Fingerprint"));
        assert!(!t.parameters["ArtifactBucket"].has_default);
    }

    #[test]
    fn short_form_tags_are_accepted() {
        let t = parse_str(
            "Parameters:\n  A:\n    Type: String\nResources:\n  B:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub \"${AWS::StackName}-q\"\n      Tags: [{Key: a, Value: !Ref A}]\n",
        )
        .unwrap();
        assert_eq!(t.parameters["A"].line, 3);
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse_str("Resources:\n  B:\n    Type: [unclosed\n").unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.file, Path::new("infra/template.yaml"));
        assert!(d.line >= 3, "{d}");
    }

    #[test]
    fn no_resources_is_an_error() {
        let err = parse_str("Resources: {}\n").unwrap_err();
        assert!(err.0[0].message.contains("no resources"), "{}", err.0[0]);
        assert!(parse_str("Parameters: {}\n").is_err());
    }

    #[test]
    fn the_shipped_template_has_least_privilege() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let t = load(&root.join(TEMPLATE_PATH)).unwrap();
        assert_eq!(t.lint_iam(), Vec::new());
    }

    #[test]
    fn wildcards_are_reported_with_their_statement() {
        let t = parse_str(
            "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - Sid: Comprehend\n                Effect: Allow\n                Action: comprehend:DetectSentiment\n                Resource: \"*\"\n              - Sid: Everything\n                Effect: Allow\n                Action: [\"comprehend:*\", s3:GetObject]\n                Resource: \"*\"\n              - Sid: TlsOnly\n                Effect: Deny\n                Action: \"s3:*\"\n                Resource: \"*\"\n",
        )
        .unwrap();
        let diags = t.lint_iam();
        let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(diags.len(), 2, "{text:#?}");
        assert!(text[0].contains(":13:1:"), "{}", text[0]);
        assert!(text[0].contains("`comprehend:*`"), "{}", text[0]);
        assert!(text[1].contains("every resource"), "{}", text[1]);
        assert_eq!(
            diags[1].key.as_deref(),
            Some("Resources.R.Properties.Policies[0].PolicyDocument.Statement[1]")
        );
    }

    #[test]
    fn parameters_must_match() {
        let t = parse_str(
            "Parameters:\n  Known:\n    Type: String\n  Extra:\n    Type: String\n  Opt:\n    Type: String\n    Default: x\nResources:\n  B:\n    Type: AWS::SQS::Queue\n",
        )
        .unwrap();
        let err = t.check_parameters(["Known", "Unknown"]).unwrap_err();
        let text: Vec<String> = err.0.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        // The parameter's definition (its first line under the name).
        assert!(text[0].contains(":5:1: `Parameters.Extra`"), "{}", text[0]);
        assert!(text[0].contains("no default"), "{}", text[0]);
        assert!(text[1].contains("`Unknown`"), "{}", text[1]);
        assert!(t.check_parameters(["Known", "Extra"]).is_ok());
    }
}
