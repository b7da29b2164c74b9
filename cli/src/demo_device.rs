//! The demo's Bluetooth step: Anna pairs her blood-pressure cuff, and the app reads
//! its memory (four stored measurements, the newest taken with the cuff too loose).
//! The values are the bytes a real cuff sends (Blood Pressure Measurement, 0x2A35);
//! the core decodes them as the apps would. The memory is read again, as at the next
//! connection, and nothing new is stored: each record's id comes from the device,
//! its clock and the kind.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use nara_core::Nara;
use nara_core::device::Characteristic;
use nara_core::device::blood_pressure::{BloodPressureMeasurement, MeasurementStatus};
use nara_core::device::capture::{CaptureContext, DeviceInfo};
use nara_core::devices::{DeviceValue, Preview};

use crate::commands::Ctx;
use crate::commands::device::{print_report, report_json};
use crate::render;
use crate::render::tr;

/// One stored record as the cuff sends it: mmHg, time stamp, pulse, user 1 and the
/// measurement status.
fn record(
    systolic: i16,
    diastolic: i16,
    pulse: i16,
    at: &Zoned,
    status: MeasurementStatus,
) -> anyhow::Result<DeviceValue> {
    let m = BloodPressureMeasurement {
        user_id: Some(1),
        status: Some(status),
        ..BloodPressureMeasurement::mmhg(systolic, diastolic, Some(pulse), Some(at.datetime()))
    };
    Ok(DeviceValue {
        characteristic: Characteristic::BloodPressureMeasurement,
        bytes: m
            .encode()
            .ok_or_else(|| anyhow::anyhow!("a value does not fit an SFLOAT"))?,
    })
}

fn serial() -> String {
    let nanos = Timestamp::now().as_nanosecond().rem_euclid(1 << 32);
    format!("20240117-{nanos:08X}")
}

/// Runs the step; never fails the demo (a failure is printed and reported in JSON).
pub fn device_step(
    ctx: &Ctx,
    nara: &Nara,
    tz: &TimeZone,
    say: &dyn Fn(String),
) -> serde_json::Value {
    match run(ctx, nara, tz, say) {
        Ok(v) => v,
        Err(e) => {
            say(render::alert(ctx, &format!("  ✗ {e:#}")));
            serde_json::json!({ "error": e.to_string() })
        }
    }
}

fn run(
    ctx: &Ctx,
    nara: &Nara,
    tz: &TimeZone,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let lang = ctx.lang;
    let now = nara.now().to_zoned(tz.clone());
    let ago = |minutes: i64| -> anyhow::Result<Zoned> {
        Ok(now
            .checked_sub(SignedDuration::from_mins(minutes))?
            .round(jiff::Unit::Minute)?)
    };
    // Oldest first, as the cuff reports its memory.
    let memory = vec![
        record(132, 84, 68, &ago(26 * 60)?, MeasurementStatus::GOOD)?,
        record(129, 82, 66, &ago(14 * 60)?, MeasurementStatus::GOOD)?,
        record(
            151,
            93,
            74,
            &ago(9)?,
            MeasurementStatus {
                cuff_too_loose: true,
                body_movement: true,
                ..MeasurementStatus::GOOD
            },
        )?,
        record(134, 85, 69, &ago(5)?, MeasurementStatus::GOOD)?,
    ];
    let cx = CaptureContext {
        // A serial of this run: each demo is a new patient's phone and cuff, and the
        // region must not see its records as another run's (it would, rightly, as the
        // same cuff's: the ids come from serial, clock and kind).
        device: DeviceInfo::new(&serial(), Some("Omron M7 Intelli IT"))?,
        user: Some(1),
        tz: tz.clone(),
        received_at: Timestamp::now(),
    };
    let devices = nara.devices();

    let newest = &memory[2];
    let hex: Vec<String> = newest.bytes.iter().map(|b| format!("{b:02X}")).collect();
    say(format!("  0x2A35 ← {}", hex.join(" ")));
    if let (_, Preview::Reading(r)) = devices.preview(newest, &cx)? {
        for line in render::reading_outcome(ctx, &r) {
            say(format!("  {line}"));
        }
    }

    let first = devices.import(&memory, &cx, |_, _| {})?;
    say(format!(
        "  {}",
        tr(
            lang,
            "Första anslutningen: mätarens minne (4 mätningar)",
            "First connection: the cuff's memory (4 measurements)"
        )
    ));
    if !ctx.json {
        print_report(ctx, &first);
    }
    let again = devices.import(&memory, &cx, |_, _| {})?;
    say(format!(
        "  {}",
        tr(
            lang,
            "Nästa anslutning: samma minne igen, inget sparas två gånger",
            "Next connection: the same memory again, nothing stored twice"
        )
    ));
    if !ctx.json {
        print_report(ctx, &again);
    }
    Ok(serde_json::json!({
        "first_import": report_json(&first),
        "second_import": report_json(&again),
    }))
}
