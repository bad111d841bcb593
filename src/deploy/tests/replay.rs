//! What AWS does and moto does not, on recorded responses: the FAILED empty change
//! set (both wordings), recovery from ROLLBACK_COMPLETE, a failed update that rolled
//! back, throttled DescribeStackEvents, and an artifact bucket someone else owns.
//! (Drift detection, which moto lacks too, is tested beside `crate::drift`.)
//! Bodies are CloudFormation's and S3's XML as AWS sends them (request ids shortened).

use std::time::Duration;

use aws_smithy_http_client::test_util::StaticReplayClient;

use crate::deploy::stack::{self, ChangeSetResult, ChangeSetSpec, Timing};
use crate::testing::replay::cfn::{STACK, STACK_ID, actions, cfn, error, ok, replay, timing};

fn stack_xml(status: &str) -> String {
    format!(
        "<Stacks><member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName><CreationTime>2026-11-30T09:12:03.441Z</CreationTime><StackStatus>{status}</StackStatus><Parameters><member><ParameterKey>MemoryMb</ParameterKey><ParameterValue>256</ParameterValue></member></Parameters><Outputs/><Tags/><DisableRollback>false</DisableRollback></member></Stacks>"
    )
}

fn event_xml(id: &str, logical: &str, kind: &str, status: &str, reason: &str) -> String {
    format!(
        "<member><EventId>{id}</EventId><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-phys</PhysicalResourceId><ResourceType>{kind}</ResourceType><Timestamp>2026-11-30T09:14:{:02}.118Z</Timestamp><ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>",
        id.len()
    )
}

fn events(members: &[String]) -> (u16, String) {
    ok(
        "DescribeStackEvents",
        &format!("<StackEvents>{}</StackEvents>", members.concat()),
    )
}

fn spec<'a>(params: &'a [(String, String)]) -> ChangeSetSpec<'a> {
    ChangeSetSpec {
        stack: STACK,
        name: "fangops-20261130091500-1a2b",
        create: false,
        template_body: "Resources: {}",
        parameters: params,
        tags: &[],
        role_arn: None,
    }
}

async fn empty_change_set_with(reason: &str) {
    let replay = replay(vec![
        ok(
            "CreateChangeSet",
            &format!(
                "<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/fangops-20261130091500-1a2b/0f1e2d3c</Id><StackId>{STACK_ID}</StackId>"
            ),
        ),
        ok(
            "DescribeChangeSet",
            &format!(
                "<ChangeSetName>fangops-20261130091500-1a2b</ChangeSetName><StackName>{STACK}</StackName><Status>FAILED</Status><StatusReason>{reason}</StatusReason><ExecutionStatus>UNAVAILABLE</ExecutionStatus><Changes/>"
            ),
        ),
    ]);
    let result = stack::create_change_set(&cfn(&replay), &spec(&[]), timing())
        .await
        .unwrap();
    assert_eq!(result, ChangeSetResult::NoChanges);
    assert_eq!(actions(&replay), ["CreateChangeSet", "DescribeChangeSet"]);
}

#[tokio::test]
async fn aws_empty_change_set_is_a_clean_no_op() {
    empty_change_set_with(
        "The submitted information didn't contain changes. Submit different information to create a change set.",
    )
    .await;
    empty_change_set_with("No updates are to be performed.").await;
}

#[tokio::test]
async fn a_change_set_failing_for_another_reason_is_an_error() {
    let replay = replay(vec![
        ok("CreateChangeSet", "<Id>arn:cs</Id>"),
        ok(
            "DescribeChangeSet",
            "<Status>CREATE_PENDING</Status><ExecutionStatus>UNAVAILABLE</ExecutionStatus>",
        ),
        ok(
            "DescribeChangeSet",
            "<Status>FAILED</Status><StatusReason>Parameters: [MemoryMb] must have values</StatusReason><ExecutionStatus>UNAVAILABLE</ExecutionStatus>",
        ),
    ]);
    let err = stack::create_change_set(&cfn(&replay), &spec(&[]), timing())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("for stack fang-dev failed"), "{err}");
    assert!(err.contains("[MemoryMb] must have values"), "{err}");
}

#[tokio::test]
async fn change_set_details_are_read_across_pages_with_replacements() {
    let change = |logical: &str, action: &str, replacement: &str| {
        format!(
            "<member><Type>Resource</Type><ResourceChange><Action>{action}</Action><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-phys</PhysicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType><Replacement>{replacement}</Replacement><Scope><member>Properties</member></Scope><Details/></ResourceChange></member>"
        )
    };
    let replay = replay(vec![
        ok("CreateChangeSet", "<Id>arn:cs</Id>"),
        ok(
            "DescribeChangeSet",
            "<Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>",
        ),
        ok(
            "DescribeChangeSet",
            &format!(
                "<Status>CREATE_COMPLETE</Status><Changes>{}</Changes><NextToken>page2</NextToken>",
                change("CompaniesTable", "Modify", "True")
            ),
        ),
        ok(
            "DescribeChangeSet",
            &format!(
                "<Status>CREATE_COMPLETE</Status><Changes>{}</Changes>",
                change("SentimentFunction", "Modify", "False")
            ),
        ),
    ]);
    let ChangeSetResult::Ready(changes) =
        stack::create_change_set(&cfn(&replay), &spec(&[]), timing())
            .await
            .unwrap()
    else {
        panic!("expected changes")
    };
    assert_eq!(changes.len(), 2);
    assert!(changes[0].may_replace());
    assert!(!changes[1].may_replace());
    assert_eq!(changes[0].scope, ["Properties"]);
}

#[tokio::test]
async fn rollback_complete_stack_is_deleted_before_it_is_created_again() {
    let replay = replay(vec![
        // settle: the stack a failed first create left behind
        ok("DescribeStacks", &stack_xml("ROLLBACK_COMPLETE")),
        // delete: the cursor marks old events as seen
        events(&[event_xml(
            "e1",
            STACK,
            "AWS::CloudFormation::Stack",
            "ROLLBACK_COMPLETE",
            "",
        )]),
        ok("DeleteStack", ""),
        events(&[
            event_xml(
                "e2",
                STACK,
                "AWS::CloudFormation::Stack",
                "DELETE_IN_PROGRESS",
                "User Initiated",
            ),
            event_xml(
                "e1",
                STACK,
                "AWS::CloudFormation::Stack",
                "ROLLBACK_COMPLETE",
                "",
            ),
        ]),
        ok("DescribeStacks", &stack_xml("DELETE_IN_PROGRESS")),
        error(
            400,
            "ValidationError",
            "Stack with id fang-dev does not exist",
        ),
        error(
            400,
            "ValidationError",
            "Stack with id fang-dev does not exist",
        ),
        error(
            400,
            "ValidationError",
            "Stack with id fang-dev does not exist",
        ),
    ]);
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let settled = stack::settle(&cfn(&replay), STACK, timing(), &|l: &str| {
        said.lock().unwrap().push(l.to_owned());
    })
    .await
    .unwrap();
    assert!(settled.recreated);
    assert!(settled.existing.is_none());
    let said = said.into_inner().unwrap();
    assert!(said[0].contains("ROLLBACK_COMPLETE"), "{said:?}");
    assert!(
        said[0].contains("deleting it and creating it again"),
        "{said:?}"
    );
    assert!(
        said.iter().any(|l| l.contains("DELETE_IN_PROGRESS")),
        "{said:?}"
    );
    assert_eq!(
        actions(&replay),
        [
            "DescribeStacks",
            "DescribeStackEvents",
            "DeleteStack",
            "DescribeStackEvents",
            "DescribeStacks",
            "DescribeStackEvents",
            "DescribeStacks",
            "DescribeStackEvents"
        ]
    );
}

#[tokio::test]
async fn stacks_that_need_a_person_are_refused() {
    let replay = replay(vec![ok(
        "DescribeStacks",
        &stack_xml("UPDATE_ROLLBACK_FAILED"),
    )]);
    let err = stack::settle(&cfn(&replay), STACK, timing(), &|_: &str| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("UPDATE_ROLLBACK_FAILED"), "{err}");
    assert!(err.contains("continue the rollback"), "{err}");
}

#[tokio::test]
async fn a_busy_stack_is_waited_for_then_times_out() {
    let mut responses = vec![ok("DescribeStacks", &stack_xml("UPDATE_IN_PROGRESS")); 3];
    responses.push(ok("DescribeStacks", &stack_xml("UPDATE_COMPLETE")));
    let replay = replay(responses);
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let info = stack::wait_until_idle(&cfn(&replay), STACK, timing(), |l: &str| {
        said.lock().unwrap().push(l.to_owned());
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(info.status, "UPDATE_COMPLETE");
    // Said once, not once per look.
    assert_eq!(said.into_inner().unwrap().len(), 1);

    let replay = self::replay(vec![
        ok("DescribeStacks", &stack_xml("UPDATE_IN_PROGRESS"));
        400
    ]);
    let short = Timing {
        poll: Duration::from_millis(1),
        timeout: Duration::from_millis(30),
    };
    let err = stack::wait_until_idle(&cfn(&replay), STACK, short, |_: &str| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("busy (UPDATE_IN_PROGRESS)"), "{err}");
    assert!(err.contains("not to race"), "{err}");
}

#[tokio::test]
async fn failed_update_reports_the_failing_resources_and_why() {
    let replay = replay(vec![
        events(&[event_xml(
            "e0",
            STACK,
            "AWS::CloudFormation::Stack",
            "UPDATE_COMPLETE",
            "",
        )]),
        ok("ExecuteChangeSet", ""),
        events(&[
            event_xml(
                "e4",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to update: [SentimentFunction]. ",
            ),
            event_xml(
                "e3",
                "SentimentFunction",
                "AWS::Lambda::Function",
                "UPDATE_FAILED",
                "Resource handler returned message: \"Value 20000 at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240\"",
            ),
            event_xml(
                "e2",
                "SentimentFunction",
                "AWS::Lambda::Function",
                "UPDATE_IN_PROGRESS",
                "",
            ),
            event_xml(
                "e1",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "User Initiated",
            ),
            event_xml(
                "e0",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            ),
        ]),
        ok("DescribeStacks", &stack_xml("UPDATE_ROLLBACK_COMPLETE")),
        events(&[
            event_xml(
                "e5",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            ),
            event_xml(
                "e4",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "",
            ),
        ]),
    ]);
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let finished = stack::execute(&cfn(&replay), STACK, "cs", timing(), &|e| {
        lines.lock().unwrap().push(stack::event_line(e));
    })
    .await
    .unwrap();
    assert!(!finished.ok);
    assert_eq!(finished.status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(finished.failures.len(), 1, "{:?}", finished.failures);
    let f = &finished.failures[0];
    assert_eq!(f.logical_id, "SentimentFunction");
    assert_eq!(f.status, "UPDATE_FAILED");
    assert!(f.reason.contains("memorySize"), "{}", f.reason);
    // Streamed oldest first, each event once.
    let lines = lines.into_inner().unwrap();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(
        lines[0].contains("UPDATE_IN_PROGRESS: User Initiated"),
        "{lines:#?}"
    );
    assert!(lines[4].contains("UPDATE_ROLLBACK_COMPLETE"), "{lines:#?}");
}

#[tokio::test]
async fn throttled_stack_events_slow_down_but_do_not_fail_the_deploy() {
    let replay = replay(vec![
        events(&[]),
        ok("ExecuteChangeSet", ""),
        error(400, "Throttling", "Rate exceeded"),
        ok("DescribeStacks", &stack_xml("UPDATE_IN_PROGRESS")),
        error(400, "Throttling", "Rate exceeded"),
        ok("DescribeStacks", &stack_xml("UPDATE_IN_PROGRESS")),
        events(&[event_xml(
            "e1",
            STACK,
            "AWS::CloudFormation::Stack",
            "UPDATE_IN_PROGRESS",
            "User Initiated",
        )]),
        error(400, "Throttling", "Rate exceeded"),
        ok("DescribeStacks", &stack_xml("UPDATE_COMPLETE")),
        events(&[
            event_xml(
                "e2",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            ),
            event_xml(
                "e1",
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "",
            ),
        ]),
    ]);
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let finished = stack::execute(&cfn(&replay), STACK, "cs", timing(), &|e| {
        lines.lock().unwrap().push(stack::event_line(e));
    })
    .await
    .unwrap();
    assert!(finished.ok, "{finished:?}");
    assert_eq!(finished.status, "UPDATE_COMPLETE");
    assert_eq!(lines.into_inner().unwrap().len(), 2);
    assert_eq!(replay.actual_requests().count(), 10);
}

fn s3(replay: &StaticReplayClient) -> aws_sdk_s3::Client {
    crate::testing::replay::client!(aws_sdk_s3, replay)
}

fn s3_replay(responses: Vec<(u16, &str)>) -> StaticReplayClient {
    crate::testing::replay::replay(
        "https://s3.us-east-1.amazonaws.com/",
        "application/xml",
        responses
            .into_iter()
            .map(|(s, b)| (s, b.to_owned()))
            .collect(),
    )
}

#[tokio::test]
async fn artifact_bucket_owned_by_another_account_is_refused() {
    // HeadBucket with ExpectedBucketOwner: 403, no body, when the owner differs.
    let replay = s3_replay(vec![(403, "")]);
    let err = crate::deploy::artifacts::ensure_bucket(
        &s3(&replay),
        "fangops-artifacts-123456789012-us-east-1",
        "us-east-1",
        "123456789012",
        true,
    )
    .await
    .unwrap_err()
    .to_string();
    // A 403 does not prove another owner: the message names both causes.
    assert!(
        err.contains("another account owns it") && err.contains("lack s3:ListBucket"),
        "{err}"
    );
    assert!(err.contains("--artifact-bucket"), "{err}");
    assert_eq!(replay.actual_requests().count(), 1, "nothing was created");
}

/// Regression: the lock-down calls passed the SDK's error on as it is ("service error",
/// its code one cause further down); they name the code and message as every other
/// call does now.
#[tokio::test]
async fn a_refused_bucket_policy_names_the_call_and_aws_s_answer() {
    // HeadBucket 404, CreateBucket, PutBucketEncryption, PutPublicAccessBlock: fine;
    // PutBucketPolicy refused (an SCP, or a role without s3:PutBucketPolicy).
    let replay = s3_replay(vec![
        (404, ""),
        (200, ""),
        (200, ""),
        (200, ""),
        (403, ACCESS_DENIED),
    ]);
    let err = crate::deploy::artifacts::ensure_bucket(
        &s3(&replay),
        "fangops-artifacts-123456789012-us-east-1",
        "us-east-1",
        "123456789012",
        true,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "setting the TLS-only policy of artifact bucket fangops-artifacts-123456789012-us-east-1"
    );
    let cause = err.root_cause().to_string();
    assert!(cause.starts_with("AccessDenied: Access Denied"), "{cause}");
    assert_eq!(replay.actual_requests().count(), 5);
}

const NO_SUCH_KEY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>index/f.json</Key><RequestId>8S5R</RequestId></Error>";
const NO_SUCH_BUCKET: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName><RequestId>8S5S</RequestId></Error>";
const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>8S5T</RequestId></Error>";

fn index_entry(fingerprint: &str) -> String {
    serde_json::to_string(&crate::deploy::artifacts::IndexEntry {
        function: "producer".into(),
        fingerprint: fingerprint.into(),
        sha256: "ab".repeat(32),
        key: format!("artifacts/{}.zip", "ab".repeat(32)),
        size: 4_000_000,
        target: "aarch64-unknown-linux-gnu.2.34".into(),
        profile: "lambda".into(),
        toolchain: "1.95.0".into(),
        builder: "cargo zigbuild".into(),
        built_at: "2026-12-01T07:00:00Z".into(),
    })
    .unwrap()
}

#[tokio::test]
async fn index_lookup_misses_on_a_missing_key_or_bucket() {
    let fp = "f".repeat(64);
    for answer in [(404, NO_SUCH_KEY), (404, NO_SUCH_BUCKET)] {
        let replay = s3_replay(vec![answer]);
        let got = crate::deploy::artifacts::lookup(&s3(&replay), "b", &fp)
            .await
            .unwrap();
        assert_eq!(got, None);
    }
}

#[tokio::test]
async fn index_lookup_says_why_s3_may_answer_403() {
    // Without s3:ListBucket, GetObject of a missing key is AccessDenied, not NoSuchKey:
    // a miss must not be assumed (a build would run where none is needed, or worse,
    // an index could never be read), so it is an error that names the permission.
    let replay = s3_replay(vec![(403, ACCESS_DENIED)]);
    let err = crate::deploy::artifacts::lookup(&s3(&replay), "b", &"f".repeat(64))
        .await
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains("s3:ListBucket") && err.contains("AccessDenied"),
        "{err}"
    );
    // Regression: every 403 read as a missing s3:ListBucket. S3 words a denial in the
    // bucket's own account by its cause (S3 User Guide, "Troubleshoot access denied
    // (403 Forbidden) errors"); the hint follows it.
    let denied = |context: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/fangops-deploy-dev/GitHubActions is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/index/f.json\" {context}</Message><RequestId>8S5V</RequestId></Error>"
        )
    };
    for (context, hint) in [
        (
            "with an explicit deny in a resource-based policy",
            "the bucket policy of b denies it",
        ),
        (
            "with an explicit deny in a service control policy",
            "a policy denies it explicitly",
        ),
        (
            "because no identity-based policy allows the s3:GetObject action",
            "the credentials' policies do not grant it",
        ),
    ] {
        let replay = s3_replay(vec![(403, &denied(context))]);
        let err = crate::deploy::artifacts::lookup(&s3(&replay), "b", &"f".repeat(64))
            .await
            .unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains(hint) && !err.contains("s3:ListBucket"),
            "{err}"
        );
    }
}

/// S3 answers in turn: `(status, body, x-amz-checksum-sha256)`.
fn s3_replay_with_checksums(responses: Vec<(u16, String, Option<&str>)>) -> StaticReplayClient {
    crate::testing::replay::replay_with_headers(
        "https://s3.us-east-1.amazonaws.com/",
        "application/xml",
        responses
            .into_iter()
            .map(|(status, body, checksum)| {
                let headers = checksum
                    .map(|c| ("x-amz-checksum-sha256", c.to_owned()))
                    .into_iter()
                    .collect();
                (status, body, headers)
            })
            .collect(),
    )
}

#[tokio::test]
async fn index_hit_is_taken_only_while_s3_vouches_for_its_zip() {
    use crate::deploy::artifacts::lookup;
    let fp = "f".repeat(64);
    // The entry names sha256 abab…: S3's checksum of that digest, in base64.
    let ab = aws_smithy_types::base64::encode([0xab_u8; 32]);
    let replay = s3_replay_with_checksums(vec![
        (200, index_entry(&fp), None),
        (200, String::new(), Some(&ab)),
    ]);
    let got = lookup(&s3(&replay), "b", &fp).await.unwrap();
    assert_eq!(got.map(|e| e.sha256), Some("ab".repeat(32)));
    let head = replay.actual_requests().nth(1).unwrap();
    assert_eq!(
        head.headers().get("x-amz-checksum-mode"),
        Some("ENABLED"),
        "S3 returns a checksum only when asked"
    );
    // Other bytes under the same name (a checksum of something else, or none at all, as
    // an upload without one leaves): not trusted.
    let other = aws_smithy_types::base64::encode([0xcd_u8; 32]);
    for checksum in [Some(other.as_str()), None] {
        let replay = s3_replay_with_checksums(vec![
            (200, index_entry(&fp), None),
            (200, String::new(), checksum),
        ]);
        assert_eq!(lookup(&s3(&replay), "b", &fp).await.unwrap(), None);
    }
    // A lifecycle rule removed the zip: HeadObject 404 (no body), so build again.
    let replay = s3_replay(vec![(200, &index_entry(&fp)), (404, "")]);
    assert_eq!(lookup(&s3(&replay), "b", &fp).await.unwrap(), None);
    // An entry that names another fingerprint is not trusted.
    let replay = s3_replay(vec![(200, &index_entry(&"e".repeat(64)))]);
    assert_eq!(lookup(&s3(&replay), "b", &fp).await.unwrap(), None);
}

#[tokio::test]
async fn artifact_bucket_name_taken_globally_is_refused() {
    let replay = s3_replay(vec![
        (404, ""),
        (
            409,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>BucketAlreadyExists</Code><Message>The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.</Message><BucketName>fangops-artifacts-123456789012-us-east-1</BucketName><RequestId>0E5C7B1A2D3F4E5F</RequestId><HostId>aGVsbG8=</HostId></Error>",
        ),
    ]);
    let err = crate::deploy::artifacts::ensure_bucket(
        &s3(&replay),
        "fangops-artifacts-123456789012-us-east-1",
        "us-east-1",
        "123456789012",
        true,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("taken by another AWS account"), "{err}");
}

/// A deploy cleans up the change sets an interrupted run left, but not a plan's that
/// is younger than an hour: the plan may still be describing it.
#[tokio::test]
async fn stale_change_sets_go_but_a_fresh_plan_change_set_stays() {
    let now = time::OffsetDateTime::now_utc();
    let iso = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let summary = |name: &str, created: &str| {
        format!(
            "<member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName><ChangeSetName>{name}</ChangeSetName><ExecutionStatus>AVAILABLE</ExecutionStatus><Status>CREATE_COMPLETE</Status><CreationTime>{created}</CreationTime></member>"
        )
    };
    let listing = [
        summary(
            "fangops-plan-20261201090000-aaaa",
            &iso(now - time::Duration::minutes(2)),
        ),
        summary(
            "fangops-plan-20261130090000-bbbb",
            &iso(now - time::Duration::hours(3)),
        ),
        summary(
            "fangops-20261130090000-cccc",
            &iso(now - time::Duration::minutes(1)),
        ),
        summary("someone-elses", &iso(now - time::Duration::hours(3))),
    ]
    .concat();
    let replay = replay(vec![
        ok(
            "ListChangeSets",
            &format!("<Summaries>{listing}</Summaries>"),
        ),
        ok("DeleteChangeSet", ""),
        ok("DeleteChangeSet", ""),
    ]);
    let deleted = stack::delete_stale_change_sets(
        &cfn(&replay),
        STACK,
        crate::deploy::CHANGE_SET_PREFIX,
        (
            crate::deploy::PLAN_CHANGE_SET_PREFIX,
            crate::deploy::PLAN_CHANGE_SET_TTL,
        ),
    )
    .await
    .unwrap();
    assert_eq!(deleted, 2);
    let bodies: Vec<String> = replay
        .actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned())
        .collect();
    assert!(
        bodies[1].contains("fangops-plan-20261130090000-bbbb"),
        "{bodies:?}"
    );
    assert!(
        bodies[2].contains("fangops-20261130090000-cccc"),
        "{bodies:?}"
    );
}

/// A deploy killed between CreateChangeSet and ExecuteChangeSet leaves a stack that holds
/// only change sets. The next deploy deletes it and starts afresh (regression: moto gave
/// a second change set of type CREATE a second stack of the same name, and the next
/// deploy found the resources of one under the name of the other).
#[tokio::test]
async fn a_stack_holding_only_change_sets_is_deleted_before_it_is_created() {
    let gone = || {
        error(
            400,
            "ValidationError",
            "Stack with id fang-dev does not exist",
        )
    };
    let replay = replay(vec![
        ok("DescribeStacks", &stack_xml("REVIEW_IN_PROGRESS")),
        events(&[event_xml(
            "e1",
            STACK,
            "AWS::CloudFormation::Stack",
            "REVIEW_IN_PROGRESS",
            "User Initiated",
        )]),
        ok("DeleteStack", ""),
        events(&[event_xml(
            "e2",
            STACK,
            "AWS::CloudFormation::Stack",
            "DELETE_COMPLETE",
            "",
        )]),
        gone(),
        gone(),
        gone(),
    ]);
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let settled = stack::settle(&cfn(&replay), STACK, timing(), &|l: &str| {
        said.lock().unwrap().push(l.to_owned());
    })
    .await
    .unwrap();
    assert!(
        settled.existing.is_none(),
        "the next change set creates the stack"
    );
    assert!(!settled.recreated);
    let said = said.into_inner().unwrap();
    assert!(said[0].contains("holds only change sets"), "{said:?}");
    assert!(
        actions(&replay).contains(&"DeleteStack".to_owned()),
        "{:?}",
        actions(&replay)
    );
}

const PRECONDITION_FAILED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition><RequestId>8S5T</RequestId></Error>";
const CONDITIONAL_CONFLICT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message><RequestId>8S5U</RequestId></Error>";

#[tokio::test]
async fn a_no_op_record_writes_only_what_is_new_and_a_conflict_is_written_anyway() {
    // A no-op deploy's record: its template is kept already (412), its zip's mark is
    // being written by another deploy (409: that write may fail, so this one is sent
    // again without the condition), then the record and `latest.json`.
    let mut record =
        crate::deploy::promotion::sample_record("2026-12-08T02:00:00.000Z", "unchanged", None);
    record.artifacts = vec![crate::deploy::promotion::RecordedArtifact {
        function: "producer".into(),
        sha256: "a".repeat(64),
        fingerprint: None,
    }];
    let replay = s3_replay(vec![
        (412, PRECONDITION_FAILED),
        (200, ""),
        (409, CONDITIONAL_CONFLICT),
        (200, ""),
        (200, ""),
    ]);
    crate::deploy::promotion::record(&s3(&replay), "b", &record, Some("Resources: {}"))
        .await
        .unwrap();
    let sent: Vec<(String, bool)> = replay
        .actual_requests()
        .map(|r| {
            (
                r.uri()
                    .split_once(".com")
                    .map_or(r.uri(), |(_, path)| path)
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                r.headers().get("if-none-match").is_some(),
            )
        })
        .collect();
    let mark = format!("/b/promotions/{}/fang-dev.json", "a".repeat(64));
    assert_eq!(
        sent,
        [
            (format!("/b/templates/{}.yaml", "e".repeat(64)), true),
            (
                "/b/deployments/fang-dev/2026-12-08T020000.000Z.json".to_owned(),
                false
            ),
            (mark.clone(), true),
            (mark, false),
            ("/b/deployments/fang-dev/latest.json".to_owned(), false),
        ]
    );
}

/// Regression: two deploys that build the same sources write the same index entry at
/// once; S3 answers the second conditional write 409 while the first is under way, and
/// the deploy failed. It retries (the PutObject reference says to) until S3 answers the
/// write (200: the other failed) or refuses it (412: the other's entry stays).
#[tokio::test(start_paused = true)]
async fn an_index_entry_written_by_two_deploys_at_once_is_retried_not_failed() {
    let entry: crate::deploy::artifacts::IndexEntry =
        serde_json::from_str(&index_entry(&"f".repeat(64))).unwrap();
    for (last, last_body) in [(412, PRECONDITION_FAILED), (200, "")] {
        let replay = s3_replay(vec![
            (409, CONDITIONAL_CONFLICT),
            (409, CONDITIONAL_CONFLICT),
            (last, last_body),
        ]);
        crate::deploy::artifacts::record_index(&s3(&replay), "b", std::slice::from_ref(&entry))
            .await
            .unwrap();
        let conditional: Vec<bool> = replay
            .actual_requests()
            .map(|r| r.headers().get("if-none-match") == Some("*"))
            .collect();
        assert_eq!(
            conditional,
            [true, true, true],
            "every attempt keeps the condition"
        );
    }
    // Another error is not retried.
    let replay = s3_replay(vec![(403, ACCESS_DENIED)]);
    let err = crate::deploy::artifacts::record_index(&s3(&replay), "b", &[entry])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("AccessDenied"), "{err:#}");
    assert_eq!(replay.actual_requests().count(), 1);
}
