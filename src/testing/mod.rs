//! Test support for the unit tests, in one place: SDK clients that answer from recorded
//! AWS responses ([`replay`]), env files written in a line ([`env`]) and the deploy
//! reports the renderings are tested on ([`reports`]).

pub mod env;
pub mod replay;
pub mod reports;
