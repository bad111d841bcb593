//! The integration tests: one binary that drives the real `fangops` binary against a
//! moto server it starts itself (see `support::moto`) and, where faults matter,
//! through the fault-injecting proxy (`support::fault_proxy`).

mod support;

mod doctor;
mod faults;
mod harness;
mod validate;
