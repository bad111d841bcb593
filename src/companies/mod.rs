//! The companies an env file lists, once they leave the file: the companies table made
//! equal to the list (`sync`), and each company's Wikipedia page checked as the
//! pipeline will read it (`check`, `fangops companies check`). The names themselves
//! (normalization, the list as a set) are `crate::config::names`; editing the list in
//! place is `crate::config::edit`.

pub mod check;
pub mod sync;
