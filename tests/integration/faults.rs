//! The fault-injecting proxy itself: it injects faults at the configured rate, on a
//! reproducible schedule, and fangops gets through it to moto by retrying.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::support::fault_proxy::{FaultKind, FaultPlan, FaultProxy, echo_upstream};
use crate::support::moto::moto;
use crate::support::{fangops, repo_root, run_async};

#[test]
fn schedule_is_reproducible_and_near_the_rate() {
    let plan = FaultPlan::new(42, 0.1);
    let a: Vec<_> = (0..10_000).map(|n| plan.decide(n)).collect();
    let b: Vec<_> = (0..10_000).map(|n| plan.decide(n)).collect();
    assert_eq!(a, b);
    let faulted = a.iter().filter(|d| d.is_some()).count();
    assert!(
        (900..=1100).contains(&faulted),
        "{faulted} of 10000 at rate 0.1"
    );
    for kind in FaultKind::ALL {
        let k = a.iter().filter(|d| **d == Some(kind)).count();
        assert!((120..=280).contains(&k), "{kind:?}: {k}");
    }
    let other = FaultPlan::new(43, 0.1);
    assert_ne!(a, (0..10_000).map(|n| other.decide(n)).collect::<Vec<_>>());
    assert!((0..1000).all(|n| FaultPlan::new(1, 0.0).decide(n).is_none()));
    assert!((0..1000).all(|n| FaultPlan::new(1, 1.0).decide(n).is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injects_faults_at_the_configured_rate() {
    const N: u64 = 600;
    let (upstream, _upstream_task) = echo_upstream().await;
    let mut plan = FaultPlan::new(7, 0.25);
    plan.slow_by = Duration::from_millis(5);
    let proxy = FaultProxy::start(&upstream, plan.clone()).await;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();

    let (mut ok, mut status_500, mut status_503, mut throttled, mut dropped) = (0, 0, 0, 0, 0);
    for _ in 0..N {
        // DynamoDB-style request, so throttling answers in the JSON protocol.
        let req = hyper::Request::post(format!("{}/", proxy.endpoint))
            .header("x-amz-target", "DynamoDB_20120810.PutItem")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        match client.request(req).await {
            Err(_) => dropped += 1,
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                match status {
                    200 => ok += 1,
                    500 => status_500 += 1,
                    503 => status_503 += 1,
                    400 if body.starts_with(br#"{"__type":"ThrottlingException""#) => {
                        throttled += 1
                    }
                    other => panic!("unexpected status {other}"),
                }
            }
        }
    }
    // What the client saw is exactly what the seeded schedule says...
    let expected = |kind| (0..N).filter(|n| plan.decide(*n) == Some(kind)).count();
    assert_eq!(status_500, expected(FaultKind::InternalError));
    assert_eq!(status_503, expected(FaultKind::Unavailable));
    assert_eq!(throttled, expected(FaultKind::Throttle));
    assert_eq!(dropped, expected(FaultKind::Drop));
    assert_eq!(
        ok,
        N as usize - status_500 - status_503 - throttled - dropped
    );
    // ...and the proxy's own counts agree.
    assert_eq!(
        proxy.stats.get(FaultKind::Slow) as usize,
        expected(FaultKind::Slow)
    );
    assert_eq!(
        proxy.stats.faults() as usize,
        (0..N).filter(|n| plan.decide(*n).is_some()).count()
    );
    // The schedule itself is near the configured 25%.
    let share = proxy.stats.faults() as f64 / N as f64;
    assert!((0.19..=0.31).contains(&share), "fault share {share}");
    assert!(dropped > 0 && throttled > 0 && status_500 > 0 && status_503 > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fangops_retries_through_faults_to_moto() {
    // Every kind but slow, on 60% of requests, with a seed whose first two requests
    // (the first attempts at STS and S3) are both faulted: only retries get through.
    let kinds = [
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::Throttle,
        FaultKind::Drop,
    ];
    let plan = (0..)
        .map(|seed| FaultPlan::new(seed, 0.6).kinds(&kinds))
        .find(|p| p.decide(0).is_some() && p.decide(1).is_some())
        .unwrap();
    let proxy = FaultProxy::start(&moto().endpoint, plan).await;
    let mut cmd = fangops(repo_root());
    cmd.args(["doctor", "--env", "local", "--json"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("AWS_MAX_ATTEMPTS", "10");
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(proxy.stats.faults() > 0, "no fault was injected");
    assert!(
        proxy
            .stats
            .forwarded
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );

    // Without retries, the same faults fail the command.
    let plan = FaultPlan::new(3, 1.0).kinds(&[FaultKind::Unavailable]);
    let proxy = FaultProxy::start(&moto().endpoint, plan).await;
    let mut cmd = fangops(repo_root());
    cmd.args(["doctor", "--env", "local"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint);
    let out = run_async(cmd).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("✗ identity"), "{}", out.stdout);
}
