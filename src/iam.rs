//! `fangops iam --env E`: the IAM roles fangops itself runs under, filled in for one
//! environment, from the JSON files in `infra/iam/` (which a user can also paste).
//!
//! - A **deploy** role per environment (`AWS_ROLE_DEV`, `AWS_ROLE_PROD`), trusted by
//!   GitHub's OIDC provider for jobs that run in that GitHub environment: such a job's
//!   token has `sub` = `repo:OWNER/NAME:environment:ENV`.
//! - A **plan** role for a protected environment (`AWS_ROLE_PROD_PLAN`), trusted by pull
//!   request jobs without an environment (`sub` = `repo:OWNER/NAME:pull_request`): it
//!   creates, reads and deletes change sets on a scratch stack, never executes one, and
//!   cannot delete the real stack.
//! - The **CloudFormation service role** (`cloudformation_role` in the env file) that
//!   creates the stack's resources, so neither role above can create anything itself.
//!
//! The policies are tested against what fangops calls: every AWS operation of `deploy`
//! and `plan` in the integration tests is recorded (`FANGOPS_RECORD_AWS_CALLS`) and
//! must be granted, and every granted action must be one fangops calls.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::config::{self, EnvConfig};
use crate::deploy::artifacts;
use crate::target::Target;

/// Where the policy files live, under the project root.
pub const DIR: &str = "infra/iam";

/// What a role is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Deploy,
    Plan,
    CloudFormation,
}

impl Purpose {
    fn files(self) -> (&'static str, &'static str) {
        match self {
            Self::Deploy => ("trust-environment.json", "deploy.json"),
            Self::Plan => ("trust-pull-request.json", "plan.json"),
            Self::CloudFormation => (
                "cloudformation-execution-trust.json",
                "cloudformation-execution.json",
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct IamRequest {
    /// `OWNER/NAME`, for the trust policies' `sub` claims.
    pub repository: Option<String>,
    /// The account id, when neither the env file nor the credentials give it.
    pub account: Option<String>,
    pub artifact_bucket: Option<String>,
}

/// One role: its name, the repository variable the workflows read its ARN from, and
/// its two policies.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub purpose: Purpose,
    pub name: String,
    /// The repository variable holding its ARN (none for the CloudFormation role).
    pub github_variable: Option<String>,
    /// Which fangops command runs under it, and where.
    pub used_by: String,
    pub trust: serde_json::Value,
    pub policy: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct IamReport {
    pub env: String,
    pub stack: String,
    pub account: String,
    pub region: String,
    pub repository: String,
    pub roles: Vec<Role>,
    /// The managed policy `NAME-function-boundary`: the most the functions' roles may
    /// ever be granted. The CloudFormation role creates roles only under it, so a pull
    /// request that edits the template cannot make a role that can do more.
    pub function_boundary: serde_json::Value,
    /// What could not be filled in (`{{account}}`, `{{repository}}`), said once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unfilled: Vec<String>,
}

/// `AWS_ROLE_PROD`, `AWS_ROLE_PROD_PLAN`: the names the workflows use.
pub fn github_variable(env: &str, purpose: Purpose) -> Option<String> {
    let base = format!(
        "AWS_ROLE_{}",
        env.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            })
            .collect::<String>()
    );
    match purpose {
        Purpose::Deploy => Some(base),
        Purpose::Plan => Some(format!("{base}_PLAN")),
        Purpose::CloudFormation => None,
    }
}

/// The values the policy files' `{{placeholders}}` take.
#[derive(Debug, Clone)]
pub struct Values {
    pub partition: String,
    pub account: String,
    pub region: String,
    pub stack: String,
    pub artifact_bucket: String,
    pub repository: String,
    pub environment: String,
    /// Every pull-request preview's stack (`NAME-pr*`), for an env that has previews:
    /// its deploy role deploys and tears them down, its CloudFormation role and its
    /// functions' boundary serve them as they serve the env's stack.
    pub previews: Option<String>,
    /// The env's stack and its previews in one pattern (`START*`), where a policy
    /// cannot afford to name both ([`crate::config::preview::family_start`]).
    pub family: Option<String>,
}

impl Values {
    /// The values for `env`: its stack, region and partition, and its previews' patterns
    /// when it has previews.
    pub fn for_env(
        env: &EnvConfig,
        account: String,
        artifact_bucket: String,
        repository: String,
    ) -> Self {
        let previews = !env.protected && env.previews.max > 0;
        Self {
            partition: config::regions::partition(&env.region).to_owned(),
            account,
            region: env.region.clone(),
            stack: env.stack.clone(),
            artifact_bucket,
            repository,
            environment: env.name.clone(),
            previews: previews.then(|| crate::config::preview::iam_pattern(&env.stack)),
            family: previews
                .then(|| format!("{}*", crate::config::preview::family_start(&env.stack))),
        }
    }

    fn fill(&self, text: &str) -> String {
        let previews = self.previews.clone().unwrap_or_default();
        let family = self.family.clone().unwrap_or_default();
        [
            ("{{partition}}", &self.partition),
            ("{{account}}", &self.account),
            ("{{region}}", &self.region),
            ("{{stack}}", &self.stack),
            ("{{previews}}", &previews),
            ("{{family}}", &family),
            ("{{artifact_bucket}}", &self.artifact_bucket),
            ("{{repository}}", &self.repository),
            ("{{environment}}", &self.environment),
        ]
        .iter()
        .fold(text.to_owned(), |t, (k, v)| t.replace(k, v))
    }
}

/// The policy files whose grants on the env's stack extend to its previews: naming
/// the previews beside the stack, or (the CloudFormation role's, which would not fit
/// IAM's 10,240 characters so) one pattern for both.
const SERVES_PREVIEWS: [(&str, Widen); 3] = [
    ("deploy.json", Widen::Beside),
    ("cloudformation-execution.json", Widen::Family),
    ("function-boundary.json", Widen::Beside),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Widen {
    /// `fang-dev-…` and `fang-dev-pr*-…`: exact for the stack.
    Beside,
    /// `fang-dev*-…`.
    Family,
}

/// What the deploy role of an env with previews adds: finding them, and what tearing
/// one down needs beyond what deploying it does. The env's own stack gets none of it.
const PREVIEWS_FILE: &str = "previews.json";

/// Each resource (and condition value) naming the env's stack names its previews too,
/// except what stays the env's own: the CloudFormation role a deploy passes, and the
/// functions' boundary every stack's roles are created under.
fn extend_to_previews(policy: &mut serde_json::Value, how: Widen) {
    let widen = |v: &mut serde_json::Value| {
        let keep = |s: &str| {
            !s.contains("{{stack}}")
                || s.contains("{{stack}}-cloudformation")
                || s.contains("{{stack}}-function-boundary")
        };
        let widened = |s: &str| -> Vec<serde_json::Value> {
            match how {
                Widen::Beside => vec![s.into(), s.replace("{{stack}}", "{{previews}}").into()],
                Widen::Family => vec![s.replace("{{stack}}", "{{family}}").into()],
            }
        };
        let list: Vec<serde_json::Value> = match v {
            serde_json::Value::String(s) if !keep(s) => widened(s),
            serde_json::Value::Array(items)
                if items.iter().any(|i| i.as_str().is_some_and(|s| !keep(s))) =>
            {
                items
                    .iter()
                    .flat_map(|i| match i.as_str() {
                        Some(s) if !keep(s) => widened(s),
                        _ => vec![i.clone()],
                    })
                    .collect()
            }
            _ => return,
        };
        *v = match <[serde_json::Value; 1]>::try_from(list) {
            Ok([one]) => one,
            Err(list) => serde_json::Value::Array(list),
        };
    };
    for st in policy["Statement"].as_array_mut().into_iter().flatten() {
        if let Some(r) = st.get_mut("Resource") {
            widen(r);
        }
        for op in st
            .get_mut("Condition")
            .and_then(|c| c.as_object_mut())
            .into_iter()
            .flat_map(|c| c.values_mut())
        {
            for v in op.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                widen(v);
            }
        }
    }
}

/// The roles an environment needs: a protected one is also planned on pull requests.
pub fn purposes(env: &EnvConfig) -> Vec<Purpose> {
    let mut out = Vec::new();
    if env.protected {
        out.push(Purpose::Plan);
    }
    out.extend([Purpose::Deploy, Purpose::CloudFormation]);
    out
}

fn read_policy(root: &Path, file: &str, values: &Values) -> Result<serde_json::Value> {
    let read = |file: &str| -> Result<serde_json::Value> {
        let path = root.join(DIR).join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    };
    let mut policy = read(file)?;
    let serves = SERVES_PREVIEWS.iter().find(|(f, _)| *f == file);
    if let (Some(_), Some((_, how))) = (&values.previews, serves) {
        extend_to_previews(&mut policy, *how);
        if file == "deploy.json" {
            let extra = read(PREVIEWS_FILE)?;
            if let (Some(to), Some(from)) = (
                policy["Statement"].as_array_mut(),
                extra["Statement"].as_array(),
            ) {
                to.extend(from.iter().cloned());
            }
        }
    }
    let text = serde_json::to_string_pretty(&policy).context("serializing a policy")?;
    serde_json::from_str(&values.fill(&text))
        .with_context(|| format!("{DIR}/{file} is not valid JSON once filled in"))
}

/// The roles of `env`, filled in with `values`.
pub fn roles(root: &Path, env: &EnvConfig, values: &Values) -> Result<Vec<Role>> {
    purposes(env)
        .into_iter()
        .map(|purpose| {
            let (trust, policy) = purpose.files();
            let (name, used_by) = match purpose {
                Purpose::Deploy => (
                    format!("{}-deploy", env.stack),
                    format!(
                        "`fangops deploy --env {}` in jobs with `environment: {}`",
                        env.name, env.name
                    ),
                ),
                Purpose::Plan => (
                    format!("{}-plan", env.stack),
                    format!("`fangops plan --env {}` in pull request jobs", env.name),
                ),
                Purpose::CloudFormation => (
                    format!("{}-cloudformation", env.stack),
                    "CloudFormation, creating the stack's resources (`cloudformation_role`); attach the policy inline: it is longer than a managed policy may be"
                        .to_owned(),
                ),
            };
            Ok(Role {
                purpose,
                name,
                github_variable: github_variable(&env.name, purpose),
                used_by,
                trust: read_policy(root, trust, values)?,
                policy: read_policy(root, policy, values)?,
            })
        })
        .collect()
}

pub async fn run(target: &Target, req: &IamRequest) -> Result<IamReport> {
    let env = &target.env;
    let mut unfilled = Vec::new();
    let account = match req.account.clone().or_else(|| env.account.clone()) {
        Some(a) => a,
        None => match account_from_credentials(target).await {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("no account from the credentials: {e:#}");
                unfilled.push(
                    "{{account}}: pass --account, set `account:` in the env file, or run with credentials"
                        .to_owned(),
                );
                "{{account}}".to_owned()
            }
        },
    };
    if account != "{{account}}"
        && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
    {
        bail!("{account:?} is not an AWS account id (12 digits)");
    }
    let repository = req.repository.clone().unwrap_or_else(|| {
        unfilled.push(
            "{{repository}}: pass --repo OWNER/NAME (Actions sets GITHUB_REPOSITORY)".to_owned(),
        );
        "{{repository}}".to_owned()
    });
    let artifact_bucket = req
        .artifact_bucket
        .clone()
        .unwrap_or_else(|| artifacts::bucket_name(&account, &env.region));
    let values = Values::for_env(env, account, artifact_bucket, repository);
    if env
        .cloudformation_role
        .as_deref()
        .is_none_or(|r| !r.ends_with(&format!("{}-cloudformation", env.stack)))
    {
        unfilled.push(format!(
            "the env file should name the CloudFormation role: `cloudformation_role: {}-cloudformation` (the deploy and plan roles may pass only that one)",
            env.stack
        ));
    }
    Ok(IamReport {
        roles: roles(&target.root, env, &values)?,
        function_boundary: read_policy(&target.root, "function-boundary.json", &values)?,
        env: env.name.clone(),
        stack: env.stack.clone(),
        account: values.account,
        region: values.region,
        repository: values.repository,
        unfilled,
    })
}

async fn account_from_credentials(target: &Target) -> Result<String> {
    Ok(target.aws().await?.identity().await?.account.clone())
}

/// The IAM action an API operation needs, as `service:Action`, from the service and
/// operation names the SDK records. S3's differ from its API names; STS's
/// GetCallerIdentity needs no permission at all.
pub fn iam_action(service: &str, operation: &str) -> Option<String> {
    let prefix = match service {
        "CloudFormation" => "cloudformation",
        "CloudWatch" => "cloudwatch",
        "CloudWatchLogs" | "CloudWatch Logs" => "logs",
        "CostExplorer" => "ce",
        "DynamoDB" => "dynamodb",
        "Lambda" => "lambda",
        "S3" => "s3",
        "SNS" => "sns",
        "SQS" => "sqs",
        "STS" => "sts",
        "Comprehend" => "comprehend",
        other => return Some(format!("{}:{operation}", other.to_ascii_lowercase())),
    };
    let action = match (prefix, operation) {
        ("sts", "GetCallerIdentity") => return None,
        ("s3", "HeadBucket" | "ListObjectsV2" | "ListObjects") => "ListBucket",
        ("s3", "HeadObject") => "GetObject",
        ("s3", "PutBucketEncryption") => "PutEncryptionConfiguration",
        ("s3", "PutPublicAccessBlock") => "PutBucketPublicAccessBlock",
        ("s3", "ListObjectVersions") => "ListBucketVersions",
        ("s3", "DeleteObjects") => "DeleteObject",
        ("lambda", "Invoke") => "InvokeFunction",
        (_, op) => op,
    };
    Some(format!("{prefix}:{action}"))
}

impl IamReport {
    pub fn render(&self) -> String {
        let mut out = format!(
            "IAM roles for {} (stack {}, account {}, {}), repository {}\n",
            self.env, self.stack, self.account, self.region, self.repository
        );
        for role in &self.roles {
            out += &format!(
                "\n## {}{}\nUsed by {}.\n\nTrust policy:\n{}\n\nPermission policy:\n{}\n",
                role.name,
                role.github_variable
                    .as_deref()
                    .map_or(String::new(), |v| format!(" (repository variable {v})")),
                role.used_by,
                serde_json::to_string_pretty(&role.trust).unwrap_or_default(),
                serde_json::to_string_pretty(&role.policy).unwrap_or_default(),
            );
        }
        out += &format!(
            "\n## {}-function-boundary (managed policy)\nThe permissions boundary of the functions' roles: the CloudFormation role creates them only under it.\n\n{}\n",
            self.stack,
            serde_json::to_string_pretty(&self.function_boundary).unwrap_or_default()
        );
        for u in &self.unfilled {
            out += &format!("\nnote: {u}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_to_the_actions_iam_checks() {
        // The SDK records CloudWatch Logs' service name with a space.
        assert_eq!(
            iam_action("CloudWatch Logs", "DescribeLogGroups").as_deref(),
            Some("logs:DescribeLogGroups")
        );
        assert_eq!(
            iam_action("S3", "HeadObject").as_deref(),
            Some("s3:GetObject")
        );
        assert_eq!(
            iam_action("S3", "ListObjectsV2").as_deref(),
            Some("s3:ListBucket")
        );
        assert_eq!(
            iam_action("S3", "PutBucketEncryption").as_deref(),
            Some("s3:PutEncryptionConfiguration")
        );
        assert_eq!(
            iam_action("CloudWatchLogs", "DeleteLogGroup").as_deref(),
            Some("logs:DeleteLogGroup")
        );
        assert_eq!(
            iam_action("CostExplorer", "GetCostAndUsage").as_deref(),
            Some("ce:GetCostAndUsage")
        );
        assert_eq!(iam_action("STS", "GetCallerIdentity"), None);
    }

    #[test]
    fn report_terminal_snapshot() {
        let report = IamReport {
            env: "prod".into(),
            stack: "fang-prod".into(),
            account: "{{account}}".into(),
            region: "us-east-1".into(),
            repository: "acme/pipeline".into(),
            roles: vec![Role {
                purpose: Purpose::Plan,
                name: "fang-prod-plan".into(),
                github_variable: Some("AWS_ROLE_PROD_PLAN".into()),
                used_by: "`fangops plan --env prod` in pull request jobs".into(),
                trust: serde_json::json!({"Statement": [{"Action": "sts:AssumeRoleWithWebIdentity"}]}),
                policy: serde_json::json!({"Statement": [{"Action": "s3:GetObject"}]}),
            }],
            function_boundary: serde_json::json!({"Statement": [{"Action": "dynamodb:Scan"}]}),
            unfilled: vec!["{{account}}: pass --account".into()],
        };
        insta::assert_snapshot!(report.render());
    }

    #[test]
    fn repository_variables_follow_the_workflows() {
        assert_eq!(
            github_variable("prod", Purpose::Deploy).as_deref(),
            Some("AWS_ROLE_PROD")
        );
        assert_eq!(
            github_variable("prod", Purpose::Plan).as_deref(),
            Some("AWS_ROLE_PROD_PLAN")
        );
        assert_eq!(
            github_variable("eu-dev", Purpose::Deploy).as_deref(),
            Some("AWS_ROLE_EU_DEV")
        );
        assert_eq!(github_variable("dev", Purpose::CloudFormation), None);
    }

    /// IAM's limits on a policy's size, whitespace not counted: a role's inline
    /// policies together, and a managed policy (the boundary).
    const INLINE_LIMIT: usize = 10_240;
    const MANAGED_LIMIT: usize = 6_144;

    fn test_values(env: &EnvConfig) -> Values {
        Values::for_env(
            env,
            "123456789012".into(),
            "fangops-artifacts-123456789012-us-east-1".into(),
            "acme/pipeline".into(),
        )
    }

    fn size(policy: &serde_json::Value) -> usize {
        policy
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }

    #[test]
    fn an_env_with_previews_serves_them_and_tears_only_them_down() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let env = config::load(&root.join("environments/dev.yaml")).unwrap();
        let values = test_values(&env);
        let stack = &env.stack;
        let roles = roles(root, &env, &values).unwrap();
        let boundary = read_policy(root, "function-boundary.json", &values).unwrap();
        let deploy = &roles[0].policy;
        let statements = |p: &serde_json::Value| p["Statement"].as_array().unwrap().clone();
        let granting = |p: &serde_json::Value, action: &str| -> Vec<String> {
            statements(p)
                .into_iter()
                .filter(|s| s["Action"].to_string().contains(action))
                .flat_map(|s| match &s["Resource"] {
                    serde_json::Value::Array(a) => {
                        a.iter().map(|r| r.as_str().unwrap().to_owned()).collect()
                    }
                    r => vec![r.as_str().unwrap().to_owned()],
                })
                .collect()
        };
        let arn = |s: &str| format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{s}/*");
        assert_eq!(
            granting(deploy, "cloudformation:ExecuteChangeSet"),
            [arn(stack), arn(&format!("{stack}-pr*"))]
        );
        // A preview's change sets carry stack tags too (see the test below).
        assert_eq!(
            granting(deploy, "cloudformation:TagResource"),
            [arn(stack), arn(&format!("{stack}-pr*"))]
        );
        // The role passed and the boundary stay the env's own: one of each per env.
        assert_eq!(
            granting(deploy, "iam:PassRole"),
            [format!(
                "arn:aws:iam::123456789012:role/{stack}-cloudformation"
            )]
        );
        assert!(
            roles[1]
                .policy
                .to_string()
                .contains(&format!("policy/{stack}-function-boundary\"")),
            "the CloudFormation role creates the previews' roles under the env's boundary"
        );
        // The CloudFormation role names the stack and its previews in one pattern.
        assert!(
            granting(&roles[1].policy, "lambda:CreateFunction").contains(&format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{stack}*-producer"
            )),
            "{}",
            roles[1].policy
        );
        assert!(
            boundary
                .to_string()
                .contains(&format!("table/{stack}-pr*-companies"))
        );
        // What only a teardown needs is granted on the previews alone.
        for action in [
            "s3:ListBucketVersions",
            "s3:DeleteObjectVersion",
            "logs:DeleteLogGroup",
        ] {
            let on = granting(deploy, action);
            assert!(!on.is_empty(), "{action}");
            assert!(
                on.iter().all(|r| r.contains(&format!("{stack}-pr*"))),
                "{action} on {on:?}"
            );
        }
        // Within IAM's size limits, whitespace aside.
        for role in &roles {
            assert!(
                size(&role.policy) <= INLINE_LIMIT,
                "{}: {}",
                role.name,
                size(&role.policy)
            );
        }
        assert!(
            size(&boundary) <= MANAGED_LIMIT,
            "the boundary: {}",
            size(&boundary)
        );
        // The longest stack in a long region name fits too.
        let long = config::parse(
            Path::new("environments/long.yaml"),
            b"stack: a-very-long-stack-name-at-32-chr\nregion: ap-southeast-2\ncloudformation_role: a-very-long-stack-name-at-32-chr-cloudformation\nsentiment: vader\ncompanies: [Apple]\n",
        )
        .unwrap();
        let long_values = Values::for_env(
            &long,
            "123456789012".into(),
            "fangops-artifacts-123456789012-ap-southeast-2".into(),
            "some-organisation/some-repository-name".into(),
        );
        for role in super::roles(root, &long, &long_values).unwrap() {
            assert!(
                size(&role.policy) <= INLINE_LIMIT,
                "{}: {}",
                role.name,
                size(&role.policy)
            );
        }
        let boundary = read_policy(root, "function-boundary.json", &long_values).unwrap();
        assert!(
            size(&boundary) <= MANAGED_LIMIT,
            "the boundary: {}",
            size(&boundary)
        );
        // A protected env has none of it.
        let prod = config::load(&root.join("environments/prod.yaml")).unwrap();
        for role in super::roles(root, &prod, &test_values(&prod)).unwrap() {
            assert!(!role.policy.to_string().contains("-pr*"), "{}", role.name);
        }
    }

    /// Grants checked against AWS's references, each with the page it follows.
    #[test]
    fn the_grants_follow_the_service_authorization_reference() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let env = config::load(&root.join("environments/prod.yaml")).unwrap();
        let values = test_values(&env);
        let roles = roles(root, &env, &values).unwrap();
        let (plan, deploy, cfn) = (&roles[0], &roles[1], &roles[2]);
        assert_eq!(
            [plan.purpose, deploy.purpose, cfn.purpose],
            [Purpose::Plan, Purpose::Deploy, Purpose::CloudFormation]
        );
        let strings = |v: &serde_json::Value| -> Vec<String> {
            match v {
                serde_json::Value::Array(a) => {
                    a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
                }
                x => vec![x.as_str().unwrap().to_owned()],
            }
        };
        // The statements whose Action list names `action` exactly.
        let granting = |p: &serde_json::Value, action: &str| -> Vec<serde_json::Value> {
            p["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| strings(&s["Action"]).iter().any(|a| a == action))
                .cloned()
                .collect()
        };
        let resources = |p: &serde_json::Value, action: &str| -> Vec<String> {
            let mut on: Vec<String> = granting(p, action)
                .iter()
                .flat_map(|s| strings(&s["Resource"]))
                .collect();
            on.sort();
            on
        };

        // 1. "Using tags on Lambda functions", Lambda developer guide
        //    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html):
        //    lambda:ListTags "For tagged functions, this permission is also necessary
        //    for GetFunction"; the Service Authorization Reference for AWS Lambda
        //    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html)
        //    maps the GetFunction operation to lambda:GetFunction and lambda:ListTags,
        //    and ListTags takes the `function` resource type. The stack's tags reach the
        //    functions, so CloudFormation's GetFunction needs it on each of them.
        let list_tags = resources(&cfn.policy, "lambda:ListTags");
        for function in resources(&cfn.policy, "lambda:GetFunction") {
            assert!(
                list_tags.contains(&function),
                "lambda:ListTags lacks {function}"
            );
        }
        let function_or_mapping = |r: &String| {
            r.contains(":function:fang-prod-") || r.ends_with(":event-source-mapping:*")
        };
        assert!(list_tags.iter().all(function_or_mapping), "{list_tags:?}");

        // 2. IAM sets aws:SourceAccount only when the calling service supplies it, and
        //    a condition on a key that is absent never matches (the role could not be
        //    assumed). Neither "CloudFormation service role", CloudFormation user guide
        //    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html),
        //    nor the trust policy of "Service roles for CloudFormation", AWS Prescriptive
        //    Guidance (https://docs.aws.amazon.com/prescriptive-guidance/latest/least-privilege-cloudformation/service-roles-for-cloudformation.html)
        //    says CloudFormation supplies it: the trust names the service alone, and the
        //    deploy and plan roles' iam:PassRole (this role only, to CloudFormation only)
        //    limit who can hand it to CloudFormation.
        assert_eq!(
            cfn.trust["Statement"][0]["Principal"]["Service"],
            "cloudformation.amazonaws.com"
        );
        assert!(
            cfn.trust["Statement"][0].get("Condition").is_none()
                && !cfn.trust.to_string().contains("aws:SourceAccount"),
            "{}",
            cfn.trust
        );

        // 3. Service Authorization Reference for AWS CloudFormation
        //    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html):
        //    the CreateChangeSet and ExecuteChangeSet operations also authorize
        //    cloudformation:TagResource (the change sets carry the stack's tags), and
        //    TagResource takes the condition key cloudformation:CreateAction, "the name
        //    of a resource-mutating API action". "Example IAM identity-based policies for
        //    CloudFormation", CloudFormation user guide
        //    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security_iam_id-based-policy-examples.html,
        //    "Control access based on resource-mutating API actions") grants TagResource
        //    under that key the same way (there for CreateStack, which fangops never
        //    calls). So: tags only through the role's own change sets, on its stacks; the
        //    plan role never executes one.
        let tagging_through: [(&Role, &[&str]); 2] = [
            (plan, &["CreateChangeSet"]),
            (deploy, &["CreateChangeSet", "ExecuteChangeSet"]),
        ];
        for (role, create_actions) in tagging_through {
            let tagging = granting(&role.policy, "cloudformation:TagResource");
            assert_eq!(tagging.len(), 1, "{}: {tagging:?}", role.name);
            assert_eq!(
                tagging[0]["Condition"]["StringEquals"]["cloudformation:CreateAction"],
                serde_json::json!(create_actions),
                "{}",
                role.name
            );
            assert_eq!(
                resources(&role.policy, "cloudformation:TagResource"),
                resources(&role.policy, "cloudformation:CreateChangeSet"),
                "{}",
                role.name
            );
        }

        // 4. Service Authorization Reference for Amazon SNS
        //    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html):
        //    Unsubscribe, GetSubscriptionAttributes and SetSubscriptionAttributes take the
        //    (optional) `topic` resource type, so a statement on the alarm topic matches
        //    them and they need not be granted on "*". (Older copies of the page listed no
        //    resource type for them; were that so, a statement naming only the topic could
        //    never match: a silent deny. Recheck it if AWS changes the page again.)
        for action in [
            "sns:Subscribe",
            "sns:Unsubscribe",
            "sns:GetSubscriptionAttributes",
            "sns:SetSubscriptionAttributes",
        ] {
            let on = resources(&cfn.policy, action);
            let topic = "arn:aws:sns:us-east-1:123456789012:fang-prod-alarms";
            assert!(
                !on.is_empty() && on.iter().all(|r| r.starts_with(topic)),
                "{action} on {on:?}"
            );
        }
        //    And for Amazon DynamoDB
        //    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html):
        //    GetResourcePolicy takes `table` or `stream`; the stack has no stream, so the
        //    table's ARN is the one it is checked against.
        assert_eq!(
            resources(&cfn.policy, "dynamodb:GetResourcePolicy"),
            ["arn:aws:dynamodb:us-east-1:123456789012:table/fang-prod-companies"]
        );
    }

    #[test]
    fn the_repository_files_fill_in_to_valid_policies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let env = config::load(&root.join("environments/prod.yaml")).unwrap();
        let values = test_values(&env);
        let roles = roles(root, &env, &values).unwrap();
        let purposes: Vec<Purpose> = roles.iter().map(|r| r.purpose).collect();
        assert_eq!(
            purposes,
            [Purpose::Plan, Purpose::Deploy, Purpose::CloudFormation]
        );
        for role in &roles {
            let text = format!("{}{}", role.trust, role.policy);
            assert!(
                !text.contains("{{"),
                "{}: a placeholder is left: {text}",
                role.name
            );
        }
        assert_eq!(
            roles[1].trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:acme/pipeline:environment:prod"
        );
        assert_eq!(
            roles[0].trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:acme/pipeline:pull_request"
        );

        // The CloudFormation role creates and edits roles only under the stack's
        // permissions boundary, and may never remove it.
        let statements =
            |policy: &serde_json::Value| policy["Statement"].as_array().unwrap().clone();
        let cfn = statements(&roles[2].policy);
        let guarded: Vec<_> = cfn
            .iter()
            .filter(|s| {
                let a = s["Action"].to_string();
                a.contains("iam:CreateRole") || a.contains("iam:PutRolePolicy")
            })
            .collect();
        assert_eq!(guarded.len(), 1, "{guarded:?}");
        assert_eq!(
            guarded[0]["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
            "arn:aws:iam::123456789012:policy/fang-prod-function-boundary"
        );
        assert!(
            !roles[2]
                .policy
                .to_string()
                .contains("DeleteRolePermissionsBoundary")
        );
        // The boundary holds every action the template grants its functions.
        let boundary = read_policy(root, "function-boundary.json", &values)
            .unwrap()
            .to_string();
        let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
        for action in [
            "dynamodb:Scan",
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "s3:PutObject",
            "s3:ListBucket",
            "cloudwatch:EnableAlarmActions",
            "comprehend:BatchDetectSentiment",
            "logs:PutLogEvents",
        ] {
            assert!(template.contains(action), "{action}");
            assert!(boundary.contains(action), "the boundary lacks {action}");
        }
        // And every object the template lets them touch in the results bucket: an
        // effective permission is what both the role and its boundary allow, so a
        // prefix the template adds without the boundary is AccessDenied in AWS (moto
        // enforces neither).
        let prefixes: Vec<&str> = template
            .split("${ResultsBucket.Arn}/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            // `/*` alone is the bucket policy's TLS-only deny, not a grant.
            .filter(|prefix| *prefix != "*")
            .collect();
        assert!(prefixes.contains(&"canary/*"), "{prefixes:?}");
        for prefix in prefixes {
            assert!(
                boundary.contains(&format!("fang-prod-123456789012-results/{prefix}")),
                "the boundary lacks the results bucket's {prefix}"
            );
        }
        // The index is written only where no entry is (If-None-Match): a branch's
        // deploy cannot replace an entry main's deploys rely on.
        let index_writes: Vec<_> = statements(&roles[1].policy)
            .into_iter()
            .filter(|s| {
                s["Resource"].to_string().contains("/index/*")
                    && s["Action"].to_string().contains("s3:PutObject")
            })
            .collect();
        assert_eq!(index_writes.len(), 1, "{index_writes:?}");
        assert_eq!(
            index_writes[0]["Condition"]["Null"]["s3:if-none-match"],
            "false"
        );
    }
}
