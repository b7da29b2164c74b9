//! `nara device decode UUID HEX` and `nara device import UUID HEX...`: what a
//! Bluetooth measuring device sent, decoded by the core exactly as the apps decode it.
//!
//! A developer tool (paste bytes from a BLE sniffer or nRF Connect) and the demo's
//! device step. `UUID` is the characteristic: `2A35`, `0x2a35` or the full 128-bit
//! form. `HEX` is the value (spaces, `:` and `-` between bytes are ignored). In an
//! import, a value may name its own characteristic as `UUID=HEX`, so a glucose meter's
//! measurements and contexts go in one import.
//!
//! Exit codes: 0 done; 1 failure; 2 bad input (an unknown characteristic, bad hex, a
//! bad device id or time zone); 3 the bytes do not decode (the field and byte offset
//! are printed).

use clap::{Args, Subcommand};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Table};
use jiff::tz::TimeZone;
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::device::{Characteristic, DecodeError};
use nara_core::devices::{DeviceImportReport, DeviceValue, Preview, RejectedBecause};
use nara_core::domain::text::Lang;
use serde_json::json;

use super::EXIT_INPUT;
use super::region::bilingual_error;
use super::{Ctx, print_json};
use crate::render;
use crate::render::tr;

/// Exit code: the bytes do not decode.
pub const EXIT_DECODE: u8 = 3;

/// The subcommands of `nara device`.
#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// Decode one value: the measurement as JSON (fields, units, flags) and the
    /// reading it would create. Stores nothing.
    #[command(
        after_help = "Example: nara device decode 2A35 '1E 79 00 50 00 5F 00 EA 07 0B 18 07 1E 00 48 00 01 00 00'\n\nExit codes: 0 done; 1 failure; 2 bad input; 3 the bytes do not decode."
    )]
    Decode(DecodeArgs),
    /// Import values (a device's stored records): one transaction; records imported
    /// before are recognised and not stored again.
    #[command(
        after_help = "Exit codes: 0 done (refused records are listed); 1 failure; 2 bad input."
    )]
    Import(ImportArgs),
}

/// Who and where the device is.
#[derive(Debug, Args)]
pub struct DeviceOpts {
    /// The device's serial number (or system id), as the Device Information service
    /// reports it.
    #[arg(long, default_value = "cli-device")]
    pub device_id: String,
    /// Manufacturer and model, shown with the reading.
    #[arg(long)]
    pub model: Option<String>,
    /// On a shared device: only this user number's values.
    #[arg(long)]
    pub user: Option<u8>,
    /// The patient's time zone for the device's clock (default: this computer's).
    #[arg(long, value_name = "IANA")]
    pub tz: Option<String>,
}

/// Arguments of `nara device decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The characteristic UUID.
    pub uuid: String,
    /// The value's bytes in hex.
    pub hex: String,
    #[command(flatten)]
    pub device: DeviceOpts,
}

/// Arguments of `nara device import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The characteristic UUID of values that do not name their own.
    pub uuid: String,
    /// Values in hex, each optionally as `UUID=HEX`.
    #[arg(required = true)]
    pub values: Vec<String>,
    #[command(flatten)]
    pub device: DeviceOpts,
}

fn bad_input(lang: Lang, sv: String, en: String) -> anyhow::Error {
    bilingual_error(lang, EXIT_INPUT, sv, en)
}

fn characteristic(ctx: &Ctx, uuid: &str) -> anyhow::Result<Characteristic> {
    Characteristic::parse(uuid).map_err(|_| {
        bad_input(
            ctx.lang,
            format!("Okänd karakteristik: {uuid} (till exempel 2A35 för blodtryck)"),
            format!("Unknown characteristic: {uuid} (for example 2A35 for blood pressure)"),
        )
    })
}

/// Parses hex with optional separators between bytes.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-' | '_'))
        .collect();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(&digits);
    hex::decode(digits).ok()
}

fn value(ctx: &Ctx, default: Characteristic, arg: &str) -> anyhow::Result<DeviceValue> {
    let (characteristic, hex) = match arg.split_once('=') {
        Some((uuid, hex)) => (self::characteristic(ctx, uuid)?, hex),
        None => (default, arg),
    };
    let bytes = parse_hex(hex).ok_or_else(|| {
        bad_input(
            ctx.lang,
            "Värdet är inte hexadecimalt (till exempel '1E 79 00')".into(),
            "The value is not hex (for example '1E 79 00')".into(),
        )
    })?;
    Ok(DeviceValue {
        characteristic,
        bytes,
    })
}

fn capture(ctx: &Ctx, opts: &DeviceOpts) -> anyhow::Result<CaptureContext> {
    let device = DeviceInfo::new(&opts.device_id, opts.model.as_deref()).map_err(|e| {
        bad_input(
            ctx.lang,
            "Enhetens id måste vara 1–64 skrivbara tecken".into(),
            e.to_string(),
        )
    })?;
    let tz = match &opts.tz {
        Some(name) => TimeZone::get(name).map_err(|_| {
            bad_input(
                ctx.lang,
                format!("Okänd tidszon: {name}"),
                format!("Unknown time zone: {name}"),
            )
        })?,
        None => TimeZone::system(),
    };
    Ok(CaptureContext {
        device,
        user: opts.user,
        tz,
        received_at: jiff::Timestamp::now(),
    })
}

fn decode_error(ctx: &Ctx, e: &DecodeError) -> anyhow::Error {
    bilingual_error(
        ctx.lang,
        EXIT_DECODE,
        format!("Värdet kunde inte avkodas: {e}"),
        format!("The value does not decode: {e}"),
    )
}

/// Runs a device subcommand.
pub fn run(ctx: &Ctx, cmd: DeviceCmd) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Decode(args) => decode(ctx, &args),
        DeviceCmd::Import(args) => import(ctx, &args),
    }
}

fn decode(ctx: &Ctx, args: &DecodeArgs) -> anyhow::Result<()> {
    let c = characteristic(ctx, &args.uuid)?;
    let value = value(ctx, c, &args.hex)?;
    let cx = capture(ctx, &args.device)?;
    let nara = ctx.open()?;
    let (decoded, preview) = match nara.devices().preview(&value, &cx) {
        Ok(p) => p,
        Err(nara_core::devices::DeviceError::Decode(e)) => return Err(decode_error(ctx, &e)),
        Err(e) => return Err(e.into()),
    };
    let outcome = match &preview {
        Preview::Reading(r) => json!({ "reading": r }),
        Preview::NotAReading(n) => json!({ "not_a_reading": n, "why": n.to_string() }),
        Preview::Invalid(errors) => json!({ "invalid": errors }),
    };
    if ctx.json {
        return print_json(&json!({
            "characteristic": c.to_string(),
            "decoded": decoded,
            "would_create": outcome,
        }));
    }
    println!("{}", render::heading(ctx, &c.to_string()));
    println!("{}", serde_json::to_string_pretty(&decoded)?);
    println!();
    match &preview {
        Preview::Reading(r) => {
            println!(
                "{}",
                render::heading(
                    ctx,
                    &tr(
                        ctx.lang,
                        "Avläsningen det skulle bli",
                        "The reading it would create"
                    )
                )
            );
            for line in render::reading_outcome(ctx, r) {
                println!("{line}");
            }
            println!(
                "  {}",
                render::dim(ctx, &format!("{} · id {}", render::local_time(r), r.id))
            );
        }
        Preview::NotAReading(n) => println!(
            "{}",
            render::dim(
                ctx,
                &format!("{} {n}", tr(ctx.lang, "Ingen avläsning:", "No reading:"))
            )
        ),
        Preview::Invalid(errors) => {
            for e in &errors.0 {
                println!("✗ {}", e.message().get(ctx.lang));
            }
        }
    }
    Ok(())
}

fn import(ctx: &Ctx, args: &ImportArgs) -> anyhow::Result<()> {
    let c = characteristic(ctx, &args.uuid)?;
    let values = args
        .values
        .iter()
        .map(|v| value(ctx, c, v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cx = capture(ctx, &args.device)?;
    let nara = ctx.open()?;
    let report = nara.devices().import(&values, &cx, |_, _| {})?;
    if ctx.json {
        return print_json(&report_json(&report));
    }
    print_report(ctx, &report);
    Ok(())
}

/// The import report as JSON.
pub fn report_json(report: &DeviceImportReport) -> serde_json::Value {
    json!({
        "inserted": report.inserted,
        "duplicates": report.duplicates,
        "skipped": report.skipped.iter().map(|s| json!({
            "index": s.index, "reason": s.reason, "why": s.reason.to_string(),
        })).collect::<Vec<_>>(),
        "rejected": report.rejected.iter().map(|r| match &r.problem {
            RejectedBecause::Decode(e) => json!({ "index": r.index, "decode": e, "why": e.to_string() }),
            RejectedBecause::Invalid(v) => json!({ "index": r.index, "invalid": v, "why": v.to_string() }),
        }).collect::<Vec<_>>(),
    })
}

/// Prints an import report as a table.
pub fn print_report(ctx: &Ctx, report: &DeviceImportReport) {
    let lang = ctx.lang;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        Cell::new(tr(lang, "Nya avläsningar", "New readings")),
        Cell::new(tr(lang, "Redan sparade", "Already stored")),
        Cell::new(tr(lang, "Inga avläsningar", "Not readings")),
        Cell::new(tr(lang, "Avvisade", "Refused")),
    ]);
    table.add_row(vec![
        Cell::new(report.inserted),
        Cell::new(report.duplicates),
        Cell::new(report.skipped.len()),
        Cell::new(report.rejected.len()),
    ]);
    println!("{table}");
    for s in &report.skipped {
        println!(
            "  {}",
            render::dim(ctx, &format!("#{}: {}", s.index, s.reason))
        );
    }
    for r in &report.rejected {
        let why = match &r.problem {
            RejectedBecause::Decode(e) => e.to_string(),
            RejectedBecause::Invalid(v) => {
                v.0.iter()
                    .map(|e| e.message().get(lang).to_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        println!("  ✗ #{}: {why}", r.index);
    }
}
