//! The command line (a contract: names and flags are relied on by scripts and tests).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "wirewatch", version, about = "Watches news feeds and alerts once per matching story")]
pub struct Cli {
    /// Config file [default: $WIREWATCH_CONFIG, else ./config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line; exits with clap's usage message (exit 2) on a bad one.
    pub fn parse_args() -> Cli {
        let cli = Cli::parse();
        // Checked here rather than by clap's conflict between `outbox`'s flags and its
        // subcommand, which would also refuse the global `--config` between the two.
        if let Command::Outbox(args) = &cli.command
            && args.action.is_some()
            && (args.state.is_some() || args.limit.is_some())
        {
            use clap::CommandFactory;
            let msg = "--state and --limit choose what `outbox` lists; `outbox retry` takes IDs or --all-dead";
            Cli::command().error(clap::error::ErrorKind::ArgumentConflict, msg).exit();
        }
        cli
    }
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
    /// Health at a glance: feeds ok and failing, the last day's stories and alerts, the outbox,
    /// the last poll, the database size
    Status {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// One row per feed: state (new, ok, failing, gone), failures, interval, next poll, stories
    Feeds {
        /// One JSON object per line per feed
        #[arg(long)]
        json: bool,
    },
    /// Matched stories, one block per cluster (the same news from several feeds), newest first
    Recent {
        /// Only this watch
        #[arg(long, value_name = "NAME")]
        watch: Option<String>,
        /// How far back to look, e.g. 24h, 7d
        #[arg(long, default_value = "24h", value_name = "DURATION")]
        since: humantime::Duration,
        /// Show at most this many clusters
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON object per line per cluster
        #[arg(long)]
        json: bool,
    },
    /// What a watch (or a query) would have alerted over the stored stories; reads only, sends nothing
    #[command(group(clap::ArgGroup::new("what").required(true).args(["watch", "query"])))]
    Backtest {
        /// A configured watch
        #[arg(long, value_name = "NAME")]
        watch: Option<String>,
        /// A query, as a watch's `query` is written
        #[arg(long, value_name = "Q")]
        query: Option<String>,
        /// How far back to look, e.g. 30d, 12h
        #[arg(long, default_value = "30d", value_name = "DURATION")]
        since: humantime::Duration,
        /// One JSON object per line per story (the `match --json` shape plus `first_seen`)
        #[arg(long)]
        json: bool,
    },
    /// Add the feeds of an OPML file to the config file, keeping its comments and layout
    ImportOpml {
        /// The OPML file
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Write the configured feeds as OPML 2.0 to standard output (credentials in their URLs masked)
    ExportOpml {
        /// Write feed URLs as configured, credentials and tokens included
        #[arg(long)]
        with_secrets: bool,
    },
    /// List alerts in the outbox with their state, attempts and last error; `outbox retry` requeues
    Outbox(OutboxArgs),
    /// Send one test alert through each notifier (or the one named) and print the answer
    NotifyTest {
        /// Only this notifier
        #[arg(long, value_name = "NAME")]
        notifier: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Which alerts to list: queued (including sending), dead, or all [default: queued and dead]
    #[arg(long, value_enum)]
    pub state: Option<StateFilter>,
    /// Show at most this many, newest first [default: 100]
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(subcommand)]
    pub action: Option<OutboxAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFilter {
    Queued,
    Dead,
    All,
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Queue alerts again, due now, with a fresh max_age: the IDs given, or every dead one
    Retry {
        #[arg(value_name = "ID", required_unless_present = "all_dead", conflicts_with = "all_dead")]
        ids: Vec<i64>,
        /// Every dead alert
        #[arg(long)]
        all_dead: bool,
    },
}
