//! The `liveproof` command: parses arguments and dispatches to the library (see `cli`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::args::Cli::parse();
    let data = args.data.clone();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", cli::message(&f.error));
            if let Some(hint) = liveproof::fsutil::disk_full_hint(&data) {
                eprintln!("error: {hint}");
            }
            ExitCode::from(f.code)
        }
    }
}
