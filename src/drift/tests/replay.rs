//! `fangops drift` on AWS, on recorded responses: moto has no drift detection.

use crate::drift::StackDrift;
use crate::drift::detect;
use crate::testing::replay::cfn::{STACK, STACK_ID, actions, cfn, error, ok, replay, timing};

// Drift detection: moto has none, so `fangops drift` on AWS is covered here.

const DRIFT_ID: &str = "b78ac9b0-dec1-11e7-a451-50d5cd92b8ae";

fn drift_status(detection: &str, stack_status: &str, reason: &str) -> (u16, String) {
    ok(
        "DescribeStackDriftDetectionStatus",
        &format!(
            "<StackId>{STACK_ID}</StackId><StackDriftDetectionId>{DRIFT_ID}</StackDriftDetectionId><StackDriftStatus>{stack_status}</StackDriftStatus><DetectionStatus>{detection}</DetectionStatus><DetectionStatusReason>{reason}</DetectionStatusReason><DriftedStackResourceCount>1</DriftedStackResourceCount><Timestamp>2026-11-30T10:02:11.204Z</Timestamp>"
        ),
    )
}

fn resource_drifts(members: &str, next: Option<&str>) -> (u16, String) {
    ok(
        "DescribeStackResourceDrifts",
        &format!(
            "<StackResourceDrifts>{members}</StackResourceDrifts>{}",
            next.map(|n| format!("<NextToken>{n}</NextToken>"))
                .unwrap_or_default()
        ),
    )
}

fn drifted_resource(
    logical: &str,
    kind: &str,
    status: &str,
    diffs: &[(&str, &str, &str, &str)],
) -> String {
    let diffs: String = diffs
        .iter()
        .map(|(path, expected, actual, kind)| {
            format!("<member><PropertyPath>{path}</PropertyPath><ExpectedValue>{expected}</ExpectedValue><ActualValue>{actual}</ActualValue><DifferenceType>{kind}</DifferenceType></member>")
        })
        .collect();
    format!(
        "<member><StackId>{STACK_ID}</StackId><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-phys</PhysicalResourceId><ResourceType>{kind}</ResourceType><PropertyDifferences>{diffs}</PropertyDifferences><StackResourceDriftStatus>{status}</StackResourceDriftStatus><Timestamp>2026-11-30T10:02:10.880Z</Timestamp></member>"
    )
}

#[tokio::test]
async fn drift_detection_waits_and_reads_every_page_of_drifted_resources() {
    let replay = replay(vec![
        ok(
            "DetectStackDrift",
            &format!("<StackDriftDetectionId>{DRIFT_ID}</StackDriftDetectionId>"),
        ),
        drift_status("DETECTION_IN_PROGRESS", "", ""),
        drift_status("DETECTION_COMPLETE", "DRIFTED", ""),
        resource_drifts(
            &drifted_resource(
                "SentimentFunction",
                "AWS::Lambda::Function",
                "MODIFIED",
                &[("/MemorySize", "256", "1024", "NOT_EQUAL")],
            ),
            Some("page2"),
        ),
        resource_drifts(
            &drifted_resource("DeadLetterQueue", "AWS::SQS::Queue", "DELETED", &[]),
            None,
        ),
    ]);
    let drift = detect(&cfn(&replay), STACK, timing()).await.unwrap();
    let StackDrift::Checked {
        status,
        reason,
        resources,
    } = drift
    else {
        panic!("{drift:?}")
    };
    assert_eq!(status, "DRIFTED");
    assert_eq!(reason, None);
    assert_eq!(resources.len(), 2);
    assert_eq!(resources[0].logical_id, "DeadLetterQueue");
    assert_eq!(resources[0].status, "DELETED");
    assert_eq!(resources[1].logical_id, "SentimentFunction");
    assert_eq!(resources[1].differences[0].path, "/MemorySize");
    assert_eq!(resources[1].differences[0].expected, "256");
    assert_eq!(resources[1].differences[0].actual, "1024");
    assert_eq!(
        actions(&replay),
        [
            "DetectStackDrift",
            "DescribeStackDriftDetectionStatus",
            "DescribeStackDriftDetectionStatus",
            "DescribeStackResourceDrifts",
            "DescribeStackResourceDrifts"
        ]
    );
    // Only drifted resources are asked for.
    let body = replay
        .actual_requests()
        .nth(3)
        .unwrap()
        .body()
        .bytes()
        .unwrap()
        .to_vec();
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("StackResourceDriftStatusFilters.member.1=MODIFIED"),
        "{body}"
    );
    assert!(
        body.contains("StackResourceDriftStatusFilters.member.2=DELETED"),
        "{body}"
    );
}

#[tokio::test]
async fn failed_detection_keeps_its_reason_and_what_it_found() {
    let replay = replay(vec![
        ok(
            "DetectStackDrift",
            &format!("<StackDriftDetectionId>{DRIFT_ID}</StackDriftDetectionId>"),
        ),
        drift_status(
            "DETECTION_FAILED",
            "IN_SYNC",
            "Failed to detect drift on resource [ScheduleRule]: Internal Failure",
        ),
        resource_drifts("", None),
    ]);
    let drift = detect(&cfn(&replay), STACK, timing()).await.unwrap();
    assert_eq!(
        drift,
        StackDrift::Checked {
            status: "IN_SYNC".into(),
            reason: Some(
                "Failed to detect drift on resource [ScheduleRule]: Internal Failure".into()
            ),
            resources: vec![],
        }
    );
}

#[tokio::test]
async fn drift_detection_denied_is_reported_as_unavailable() {
    let replay = replay(vec![error(
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: cloudformation:DetectStackDrift",
    )]);
    let drift = detect(&cfn(&replay), STACK, timing()).await.unwrap();
    let StackDrift::Unavailable { reason } = drift else {
        panic!("{drift:?}")
    };
    assert!(reason.starts_with("AccessDenied: "), "{reason}");
}
