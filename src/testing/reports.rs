//! Reports for the renderings' tests, filled in as the workflows fill them: deploys of
//! each outcome, plans, cost estimates.

use std::collections::BTreeMap;

use crate::alarms::AlarmsReport;
use crate::companies::sync::SyncReport;
use crate::companies::sync::{Against, CompaniesPlan};
use crate::cost::CostReport;
use crate::deploy::artifacts::{self, Artifact};
use crate::deploy::stack::{FailedResource, ResourceChange};
use crate::deploy::verdict::{RollbackReport, Verification};
use crate::deploy::*;
use crate::plan::PlanReport;
use crate::resources::Names;
use crate::testing::env::dev;

/// A deploy that changed the stack (or failed to), with its sync and alarms.
pub fn sample_report(outcome: Outcome) -> DeployReport {
    DeployReport {
        env: "dev".into(),
        stack: "fang-dev".into(),
        region: "us-east-1".into(),
        outcome,
        unchanged_because: None,
        recreated: false,
        final_status: Some(match outcome {
            Outcome::Failed => "UPDATE_ROLLBACK_COMPLETE".into(),
            _ => "UPDATE_COMPLETE".into(),
        }),
        changes: vec![
            resource_change(
                "Modify",
                "CompaniesTable",
                "AWS::DynamoDB::Table",
                Some("True"),
            ),
            resource_change(
                "Modify",
                "SentimentFunction",
                "AWS::Lambda::Function",
                Some("False"),
            ),
            resource_change(
                "Add",
                "AlarmEmailSubscription",
                "AWS::SNS::Subscription",
                None,
            ),
        ],
        parameter_changes: vec![ParameterChange {
            name: "MemoryMb".into(),
            old: Some("256".into()),
            new: "512".into(),
        }],
        failures: match outcome {
            Outcome::Failed => vec![FailedResource {
                logical_id: "SentimentFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                status: "UPDATE_FAILED".into(),
                reason: "Value 20000 at 'memorySize' | must be <= 10240".into(),
            }],
            _ => Vec::new(),
        },
        artifacts: vec![
            Artifact {
                function: "producer".into(),
                path: None,
                size: 3_840_000,
                sha256: "ab".repeat(32),
                key: format!("artifacts/{}.zip", "ab".repeat(32)),
                fingerprint: Some("12".repeat(32)),
                origin: artifacts::Origin::Reused,
                uploaded: false,
                bytes: Vec::new(),
            },
            Artifact {
                function: "sentiment".into(),
                path: Some("dist/artifacts/dev/sentiment.zip".into()),
                size: 5_120_000,
                sha256: "cd".repeat(32),
                key: format!("artifacts/{}.zip", "cd".repeat(32)),
                fingerprint: Some("34".repeat(32)),
                origin: artifacts::Origin::Built,
                uploaded: true,
                bytes: Vec::new(),
            },
        ],
        artifact_bucket: "fangops-artifacts-123456789012-us-east-1".into(),
        outputs: BTreeMap::from([("CompaniesTable".into(), "fang-dev-companies".into())]),
        resources: Names::new("fang-dev", "123456789012"),
        fingerprint: "f".repeat(64),
        promotion: None,
        sync: Some(SyncReport {
            table: "fang-dev-companies".into(),
            added: vec!["Spotify".into()],
            removed: Vec::new(),
            unchanged: 4,
            ..Default::default()
        }),
        alarms: Some(AlarmsReport {
            env: "dev".into(),
            topic: "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms".into(),
            unchanged: 8,
            ..Default::default()
        }),
        cost: None,
        warnings: Vec::new(),
        errors: Vec::new(),
        verification: None,
        rollback: None,
        duration_s: 42.25,
        record: None,
    }
}

/// A deploy that verified; one whose verification failed and was rolled back.
pub fn verified_report(passed: bool) -> DeployReport {
    use crate::deploy::verdict::{Check, RestoredDeploy, RollbackOutcome};
    let verification = Verification {
        env: "dev".into(),
        stack: "fang-dev".into(),
        passed,
        canary_run: Some(fang_shared::RunId::new("canary-20261201T070000Z-00000001").unwrap()),
        companies: vec!["Apple".into()],
        reported: Vec::new(),
        checks: vec![Check {
            name: "canary run".into(),
            passed,
            detail: if passed {
                "1 of 1 canary through the pipeline in 31.2 s".into()
            } else {
                "Apple: no result before the timeout; last error: fetching the page: connection refused".into()
            },
            duration_s: 31.2,
        }],
        already_alarming: Vec::new(),
        duration_s: 38.4,
    };
    let rollback = (!passed).then(|| {
        AfterFailure::RolledBack(Box::new(RollbackReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            outcome: RollbackOutcome::RolledBack,
            to: Some(RestoredDeploy {
                commit: Some("0123456789abcdef".into()),
                deployed_at: "2026-11-30T07:01:42.000Z".into(),
                verified_at: Some("2026-11-30T07:02:20.000Z".into()),
            }),
            final_status: Some("UPDATE_COMPLETE".into()),
            verification: Some(Verification {
                passed: true,
                ..verification.clone()
            }),
            reason: None,
            duration_s: 52.0,
        }))
    });
    DeployReport {
        verification: Some(verification),
        rollback,
        ..sample_report(Outcome::Updated)
    }
}

/// The shipped us-east-1 pricing table, which the cost tests price with.
pub fn pricing_table() -> crate::cost::pricing::PricingTable {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/pricing/us-east-1.yaml");
    crate::cost::pricing::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A change set's line: `action` on resource `id` of type `kind`.
pub fn resource_change(
    action: &str,
    id: &str,
    kind: &str,
    replacement: Option<&str>,
) -> ResourceChange {
    ResourceChange {
        action: action.into(),
        logical_id: id.into(),
        resource_type: kind.into(),
        physical_id: None,
        replacement: replacement.map(Into::into),
        scope: Vec::new(),
    }
}

/// A cost estimate of `head`, against `base` at `origin/main`.
pub fn cost_report(base: &[&str], head: &[&str]) -> CostReport {
    let table = pricing_table();
    let (b, h) = (dev(base, ""), dev(head, ""));
    let (estimate, base) =
        crate::cost::estimate_with_base(&h, &table, Some(("origin/main", Some(&b))), false);
    CostReport {
        estimate,
        base,
        actual: None,
        measured: None,
        written: None,
        previews: None,
    }
}

/// A plan of `dev` with these companies and this cost; its alarms unchanged.
pub fn plan_report(companies: CompaniesPlan, cost: Option<CostReport>) -> PlanReport {
    PlanReport {
        env: "dev".into(),
        stack: "fang-dev".into(),
        new_stack: false,
        basis: crate::deploy::Basis::Fingerprint,
        changes: Vec::new(),
        parameter_changes: Vec::new(),
        replacements: 0,
        companies,
        pages: Vec::new(),
        promotion: None,
        alarms: Some(AlarmsReport {
            env: "dev".into(),
            topic: "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms".into(),
            unchanged: 8,
            dry_run: true,
            ..Default::default()
        }),
        cost,
        duration_s: 1.0,
    }
}

/// A companies plan against the live table.
pub fn live_companies(added: &[&str], removed: &[&str], unchanged: usize) -> CompaniesPlan {
    CompaniesPlan {
        against: Against::LiveTable,
        added: added.iter().map(|s| (*s).to_owned()).collect(),
        removed: removed.iter().map(|s| (*s).to_owned()).collect(),
        unchanged,
        retitled: Vec::new(),
        refused: None,
        note: None,
    }
}
