//! Env-file parsing and company validation at scale. Prints figures; asserts nothing
//! about time (timed assertions do not belong in tests).
//!
//!     cargo bench --bench companies
//!
//! `cargo test` runs it too, without `--bench`: a smoke run at a tiny size, so a
//! benchmark that stopped working fails the suite instead of rotting silently.
//!
//! Goal (issue 2): 100,000 names parse and validate in well under a second.

use std::path::Path;
use std::time::{Duration, Instant};

fn env_file(n: usize) -> String {
    let mut text = String::from("stack: fang-bench\nregion: us-east-1\ncompanies:\n");
    for i in 0..n {
        // A mix of scripts and spacing, so normalization does real work.
        match i % 4 {
            0 => text += &format!("  - Company {i:06}\n"),
            1 => text += &format!("  - \"  Société   Générale {i:06} \"\n"),
            2 => text += &format!("  - トヨタ自動車 {i:06}\n"),
            _ => text += &format!("  - Nestle\u{301} {i:06}\n"),
        }
    }
    text
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (sizes, split, aliases) = if smoke {
        (vec![10, 100], 100, 1_000)
    } else {
        (vec![1_000, 10_000, 100_000], 100_000, 100_000)
    };
    println!(
        "env-file parse + validate (median of 5 runs){}",
        if smoke { ", smoke run" } else { "" }
    );
    for n in sizes {
        let text = env_file(n);
        let samples: Vec<Duration> = (0..5)
            .map(|_| {
                let start = Instant::now();
                let cfg = fangops::support::parse_env(Path::new("bench.yaml"), text.as_bytes())
                    .expect("the generated file is valid");
                assert_eq!(cfg.companies.len(), n);
                start.elapsed()
            })
            .collect();
        let m = median(samples);
        println!(
            "  {n:>7} companies  {:>8.1} ms  {:>9.0} names/s  ({:.1} MB of YAML)",
            m.as_secs_f64() * 1e3,
            n as f64 / m.as_secs_f64(),
            text.len() as f64 / 1e6
        );
    }

    // Where the time goes: the YAML parser alone, then normalization + set building.
    let text = env_file(split);
    let start = Instant::now();
    let raw = fangops::support::parse_raw_env(Path::new("bench.yaml"), &text).expect("valid");
    let parse = start.elapsed();
    let names: Vec<&str> = raw.companies.iter().map(|c| c.value.name()).collect();
    let start = Instant::now();
    let list = fangops::support::CompanyList::from_names(&names).expect("valid");
    let validate = start.elapsed();
    println!(
        "  {split} split: YAML {:.1} ms, normalize + dedupe {:.1} ms ({} names)",
        parse.as_secs_f64() * 1e3,
        validate.as_secs_f64() * 1e3,
        list.len()
    );

    let mut bomb = String::from("stack: &s fang-bench\nregion: us-east-1\ncompanies: [");
    bomb.push_str(&"*s, ".repeat(aliases));
    bomb.push_str("]\n");
    let start = Instant::now();
    let err = fangops::support::parse_env(Path::new("bomb.yaml"), bomb.as_bytes())
        .expect_err("an alias bomb is rejected");
    println!(
        "alias bomb ({aliases} aliases) rejected in {:.1} ms: {}",
        start.elapsed().as_secs_f64() * 1e3,
        err.0[0].message.chars().take(60).collect::<String>()
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS of this process: {mb:.0} MB");
    }
}
