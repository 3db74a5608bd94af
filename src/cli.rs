//! The command line (a contract: names and flags are relied on by scripts and tests).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "wirewatch", version, about = "Watches news feeds and alerts once per matching story")]
pub struct Cli {
    /// Config file [default: $WIREWATCH_CONFIG, else ./config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every feed on its schedule until SIGTERM or SIGINT
    Run,
    /// Poll every feed once, deliver queued alerts, print a summary and exit
    Once,
    /// Validate the config and print a short summary (exit 2 on any error)
    Check,
    /// Dry run: match feed files or URLs against the watches; touches no database
    Match {
        /// One JSON object per line per (story, watch) match
        #[arg(long, conflicts_with = "explain")]
        json: bool,
        /// Print each watch's evaluation tree for each story: which terms hit where, which failed
        #[arg(long)]
        explain: bool,
        /// Feed file paths or http(s) URLs
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<String>,
    },
}
