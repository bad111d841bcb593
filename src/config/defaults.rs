//! Every default of the env file, in one place. The README's config reference and the
//! JSON Schema's descriptions quote these; a test keeps the shipped files honest.

use super::Schedule;

/// Lambda memory for both functions, in MB. 256 MB arm64 runs the Rust handlers with
/// room to spare; cost scales linearly with it.
pub const LAMBDA_MEMORY_MB: u32 = 256;
/// Lambda timeout for both functions, in seconds.
pub const LAMBDA_TIMEOUT_S: u32 = 60;
/// Alarm when the dead-letter queue holds at least this many messages.
pub const ALARM_DLQ_MESSAGES: u32 = 1;
/// Alarm when a function reports at least this many errors in 5 minutes.
pub const ALARM_ERRORS_PER_5M: u32 = 1;
/// Alarm when the oldest message in the queue is at least this old, in seconds.
pub const ALARM_OLDEST_MESSAGE_AGE_S: u32 = 3600;
/// A sync refuses to delete more than this share of the live table, in percent,
/// without `--allow-mass-delete`: a list truncated by a bad merge must not empty prod.
pub const SYNC_MAX_DELETE_PERCENT: u32 = 50;
/// How often the pipeline runs.
pub const SCHEDULE: &str = "rate(1 day)";

pub fn schedule() -> Schedule {
    Schedule::parse(SCHEDULE).expect("the default schedule is valid")
}
