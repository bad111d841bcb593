//! The integration tests: one binary that drives the real `fangops` binary against a
//! moto server it starts itself (see `support::moto`) and, where faults matter,
//! through the fault-injecting proxy (`support::fault_proxy`).

// Helpers here are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod support;

mod alarms;
mod architecture;
mod benches;
mod build;
mod companies;
mod cost;
mod deploy;
mod doctor;
mod exit_codes;
mod faults;
mod github;
mod handler;
mod harness;
mod iam;
mod pipeline;
mod previews;
mod sync;
mod validate;
mod verify;
mod workflows;
