//! `nara`: a terminal shell over the Nära core, for developers and demos.
//!
//! Every command opens the encrypted store in `--data-dir` with a key provider (a
//! passphrase from `NARA_PASSPHRASE`, else a key file kept outside the data dir), does
//! one thing and prints it for people, or as JSON with `--json`.

mod commands;
mod demo;
mod demo_chat;
mod demo_content;
mod demo_device;
mod demo_notices;
mod demo_region;
mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nara_core::NaraError;
use nara_core::domain::text::Lang;

use crate::commands::Ctx;

/// Nära: offline-first home monitoring, from the terminal.
#[derive(Debug, Parser)]
#[command(name = "nara", version, about)]
struct Cli {
    /// Data directory (default: $NARA_DATA_DIR, else $HOME/.local/share/nara).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Key file standing in for the platform keystore (default: outside the data dir).
    #[arg(long, global = true, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Machine-readable JSON output (no colours).
    #[arg(long, global = true)]
    json: bool,
    /// Language of patient-facing text: sv or en (default from $LANG).
    #[arg(long, global = true, value_name = "sv|en")]
    lang: Option<String>,
    /// Disable colours (NO_COLOR is honoured too).
    #[arg(long, global = true)]
    no_color: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open or create the store and show what happened.
    Init,
    /// Add, correct and list readings.
    #[command(subcommand)]
    Reading(commands::reading::ReadingCmd),
    /// Trend summary and plot for one kind.
    Trend(commands::trend::TrendArgs),
    /// Measurement schedules, today's tasks, adherence and reminders.
    Schedule(commands::schedule::ScheduleArgs),
    /// Care-team thresholds (developer tool; `nara sync` applies the region's).
    #[command(subcommand)]
    Thresholds(commands::thresholds::ThresholdsCmd),
    /// Delete every reading, the database and the keys. Irreversible.
    Wipe {
        /// Confirm the wipe.
        #[arg(long)]
        yes: bool,
    },
    /// Log in to a region (SMART on FHIR): the browser, or --test-login for the test region.
    Login(commands::region::LoginArgs),
    /// Upload waiting readings and download the care plan, with a progress bar.
    Sync(commands::region::SyncArgs),
    /// Sync state: logged in, pending, failed, last success.
    Status,
    /// Log out: revoke the login and wipe this computer's data (refused while readings
    /// wait for upload, unless --force).
    Logout(commands::region::LogoutArgs),
    /// Chat with the care team: threads, show a thread, send a message (offline).
    #[command(subcommand)]
    Chat(commands::chat::ChatCmd),
    /// Appointment notices from the region: state, time, place, health declaration.
    Notices,
    /// One appointment notice: show (opens it), confirm, cancel, reschedule.
    #[command(subcommand)]
    Notice(commands::notices::NoticeCmd),
    /// Forms from the region (health declarations): fill in, save a draft, submit.
    #[command(subcommand)]
    Form(commands::form::FormCmd),
    /// Self-care content from the region: list, read, search (offline).
    Content(commands::content::ContentArgs),
    /// Bluetooth measuring devices: decode a characteristic value, import stored records.
    #[command(subcommand)]
    Device(commands::device::DeviceCmd),
    /// Run a scripted patient story in a temporary store, then sync it with the test
    /// region (started on loopback; --region URL to use a running one, --offline for none).
    Demo(demo::DemoArgs),
}

/// An error shown to the user with a chosen exit code.
#[derive(Debug)]
pub struct UserError {
    /// Lines to print on stderr.
    pub lines: Vec<String>,
    /// Exit code.
    pub code: u8,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

impl std::error::Error for UserError {}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NARA_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/nara")
}

/// Exits quietly when stdout is closed early (`nara demo | head`) instead of panicking.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    let lang = match &cli.lang {
        Some(tag) => Lang::from_tag(tag),
        None => Lang::from_tag(&std::env::var("LANG").unwrap_or_default()),
    };
    let color = !cli.no_color
        && !cli.json
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let ctx = Ctx {
        data_dir,
        key_file: cli.key_file.clone(),
        json: cli.json,
        lang,
        color,
    };
    let result = match cli.command {
        Command::Init => commands::init::run(&ctx),
        Command::Reading(cmd) => commands::reading::run(&ctx, cmd),
        Command::Trend(args) => commands::trend::run(&ctx, &args),
        Command::Schedule(args) => commands::schedule::run(&ctx, args),
        Command::Thresholds(cmd) => commands::thresholds::run(&ctx, cmd),
        Command::Wipe { yes } => commands::wipe::run(&ctx, yes),
        Command::Login(args) => commands::region::login(&ctx, &args),
        Command::Sync(args) => commands::region::sync(&ctx, &args),
        Command::Status => commands::region::status(&ctx),
        Command::Logout(args) => commands::region::logout(&ctx, &args),
        Command::Chat(cmd) => commands::chat::run(&ctx, cmd),
        Command::Notices => commands::notices::list(&ctx),
        Command::Notice(cmd) => commands::notices::run(&ctx, cmd),
        Command::Form(cmd) => commands::form::run(&ctx, cmd),
        Command::Content(args) => commands::content::run(&ctx, args),
        Command::Device(cmd) => commands::device::run(&ctx, cmd),
        Command::Demo(args) => demo::run(&ctx, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(&e, lang),
    }
}

fn report_error(e: &anyhow::Error, lang: Lang) -> ExitCode {
    let mut err = std::io::stderr().lock();
    if let Some(u) = e.downcast_ref::<UserError>() {
        for line in &u.lines {
            let _ = writeln!(err, "{line}");
        }
        return ExitCode::from(u.code);
    }
    if let Some(n) = e.downcast_ref::<NaraError>() {
        let fields = n.field_errors();
        if !fields.is_empty() {
            for f in fields {
                let _ = writeln!(err, "✗ {}", f.message().get(lang));
            }
            return ExitCode::from(2);
        }
    }
    let _ = writeln!(err, "error: {e:#}");
    ExitCode::FAILURE
}
