//! Process exit codes, documented in `--help` and docs/reference/exit-codes.md.

/// 0: success.
pub const SUCCESS: u8 = 0;
/// 1: the command failed (AWS error, a failed check, a failed deploy).
pub const FAILURE: u8 = 1;
/// 2: usage or validation error: bad flags or bad input files; nothing was changed.
pub const INVALID: u8 = 2;
/// 3: `plan --detailed-exitcode` found changes; `drift` found drift; `companies check`
/// found a page to fix.
pub const CHANGES: u8 = 3;
