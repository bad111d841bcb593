//! What people read in a pull request, a job summary and a terminal, rendered from the
//! typed reports the workflows return: the plan, the deploy report (with a rollback's,
//! a verification's and the promotion table), the preview, the cost estimate, the
//! alarms' changes, and the pull-request comment that puts them together (the job's
//! step summary is the same markdown).
//!
//! Each is written once against a [`Flavor`](crate::markdown::Flavor) where a terminal
//! shows it too (plain text there, never markdown), and a section that sits inside
//! another takes its [`Heading`](crate::markdown::Heading) from where it is placed;
//! nothing here edits text another rendering produced. The renderings are `impl`
//! blocks of the report types, so a caller writes `report.render()`; the types stay
//! with the workflow that fills them, and only the edge (`src/cli/`) and the comment's
//! delivery (`crate::comment`) depend on this module. A command's own output that nothing else composes (`doctor`, `iam`,
//! `build`, `drift`, `history`, ...) stays beside its command.

pub mod alarms;
pub mod comment;
pub mod cost;
pub mod deploy;
pub mod plan;
pub mod preview;
