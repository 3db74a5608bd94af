//! The `wirewatch` binary: parse the command line, run the command (which sets up logging once
//! the config is read), map its error to an exit code (0 ok, 1 fatal, 2 invalid config).

use std::process::ExitCode;

use wirewatch::cli::Cli;
use wirewatch::commands;

fn main() -> ExitCode {
    wirewatch::tune_allocator();
    let cli = Cli::parse_args();
    match commands::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            let report = e.report();
            if !report.is_empty() {
                eprintln!("{report}");
            }
            e.exit_code()
        }
    }
}
