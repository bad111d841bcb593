//! The `fangops` binary. The program is the library's edge, `src/cli/`: keeping it there
//! lets the core's modules stay private to the crate.

fn main() -> std::process::ExitCode {
    fangops::main()
}
