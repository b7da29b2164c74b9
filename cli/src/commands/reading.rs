//! `nara reading add|correct|list`.

use clap::{Args, Subcommand};
use jiff::Timestamp;
use jiff::tz::Offset;
use nara_core::ReadingFilter;
use nara_core::domain::reading::{
    Comparator, Measurement, NewReading, OffScale, QualityFlags, Reading, ReadingId, ReadingKind,
};
use nara_core::domain::units::{GlucoseUnit, TemperatureUnit, WeightUnit};

use super::{Ctx, parse_kind, print_json, user_error};
use crate::render;

/// Reading subcommands.
#[derive(Debug, Subcommand)]
pub enum ReadingCmd {
    /// Capture a reading, e.g. `nara reading add bp 142/91 --pulse 72`.
    Add(AddArgs),
    /// Correct a reading: the new one supersedes it, the old stays in history.
    Correct {
        /// Id (or its first characters) of the reading to correct.
        id: String,
        #[command(flatten)]
        reading: AddArgs,
    },
    /// List readings, newest first.
    List {
        /// Only this kind.
        #[arg(long, value_parser = parse_kind)]
        kind: Option<ReadingKind>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Include superseded readings.
        #[arg(long)]
        all: bool,
    },
}

/// A reading as typed on the command line.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// Kind: bp, hr, weight, glucose, spo2, pef, temp, steps, cat.
    #[arg(value_parser = parse_kind)]
    pub kind: ReadingKind,
    /// The value; for bp `SYS/DIA`, e.g. 142/91. A meter's "HI"/"LO" as `>33.3` or
    /// `<1.1` (the meter's limit): stored as a bound, never as an exact value.
    pub value: String,
    /// Pulse (bp, spo2).
    #[arg(long)]
    pub pulse: Option<f64>,
    /// Unit of the value: mmol/L|mg/dL (glucose), kg|lb (weight), C|F (temp).
    #[arg(long)]
    pub unit: Option<String>,
    /// When it was measured, RFC 3339 with offset (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// A note.
    #[arg(long)]
    pub note: Option<String>,
    /// The cuff was loose or badly placed.
    #[arg(long)]
    pub cuff_loose: bool,
    /// The body moved during measurement.
    #[arg(long)]
    pub moved: bool,
    /// The device reported an irregular pulse.
    #[arg(long)]
    pub irregular: bool,
}

fn number(s: &str) -> anyhow::Result<f64> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .map_err(|_| user_error(2, format!("✗ '{s}' is not a number")))
}

/// Builds the measurement from a kind, the typed value, an optional pulse and unit.
pub fn measurement(
    kind: ReadingKind,
    value: &str,
    pulse: Option<f64>,
    unit: Option<&str>,
) -> anyhow::Result<Measurement> {
    let unit = unit.map(|u| u.trim().to_ascii_lowercase());
    let unit = unit.as_deref();
    let bad_unit = |u: &str| user_error(2, format!("✗ unit '{u}' does not fit {kind}"));
    Ok(match kind {
        ReadingKind::BloodPressure => {
            let (s, d) = value
                .split_once('/')
                .ok_or_else(|| user_error(2, "✗ blood pressure is written SYS/DIA, e.g. 142/91"))?;
            Measurement::BloodPressure {
                systolic: number(s)?,
                diastolic: number(d)?,
                pulse,
            }
        }
        ReadingKind::HeartRate => Measurement::HeartRate {
            bpm: number(value)?,
        },
        ReadingKind::BodyWeight => {
            let u = match unit {
                None | Some("kg") => WeightUnit::Kg,
                Some("lb" | "lbs") => WeightUnit::Lb,
                Some(u) => return Err(bad_unit(u)),
            };
            Measurement::body_weight(number(value)?, u)
        }
        ReadingKind::BloodGlucose => {
            let u = match unit {
                None | Some("mmol/l") => GlucoseUnit::MmolPerL,
                Some("mg/dl") => GlucoseUnit::MgPerDl,
                Some(u) => return Err(bad_unit(u)),
            };
            Measurement::blood_glucose(number(value)?, u)
        }
        ReadingKind::OxygenSaturation => Measurement::OxygenSaturation {
            percent: number(value)?,
            pulse,
        },
        ReadingKind::PeakExpiratoryFlow => Measurement::PeakExpiratoryFlow {
            l_per_min: number(value)?,
        },
        ReadingKind::BodyTemperature => {
            let u = match unit {
                None | Some("c" | "cel") => TemperatureUnit::Celsius,
                Some("f") => TemperatureUnit::Fahrenheit,
                Some(u) => return Err(bad_unit(u)),
            };
            Measurement::body_temperature(number(value)?, u)
        }
        ReadingKind::Steps => Measurement::Steps {
            count: number(value)?,
        },
        ReadingKind::CatScore => Measurement::CatScore {
            score: number(value)?,
        },
    })
}

/// Parses an RFC 3339 time with offset into the instant and the offset.
pub fn parse_at(s: &str) -> anyhow::Result<(Timestamp, Offset)> {
    let bad = || {
        user_error(
            2,
            format!("✗ '{s}' is not an RFC 3339 time with offset, e.g. 2025-03-01T08:00:00+01:00"),
        )
    };
    let at: Timestamp = s.parse().map_err(|_| bad())?;
    let offset = if s.ends_with('Z') || s.ends_with('z') {
        Offset::UTC
    } else {
        let tail = s.get(s.len().saturating_sub(6)..).ok_or_else(bad)?;
        let sign = match tail.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(bad()),
        };
        let (h, m) = tail[1..].split_once(':').ok_or_else(bad)?;
        let secs = sign
            * (h.parse::<i32>().map_err(|_| bad())? * 3600
                + m.parse::<i32>().map_err(|_| bad())? * 60);
        Offset::from_seconds(secs).map_err(|_| bad())?
    };
    Ok((at, offset))
}

impl AddArgs {
    /// The reading to hand to the core.
    pub fn to_new(&self) -> anyhow::Result<NewReading> {
        // A meter's "HI"/"LO" typed as ">33.3" or "<1.1": the value is the meter's limit.
        let (comparator, value) = match self.value.trim() {
            v if v.starts_with('>') => (Some(Comparator::Above), &v[1..]),
            v if v.starts_with('<') => (Some(Comparator::Below), &v[1..]),
            v => (None, v),
        };
        let m = measurement(self.kind, value, self.pulse, self.unit.as_deref())?;
        let (at, offset) = match &self.at {
            Some(s) => parse_at(s)?,
            None => {
                let now = jiff::Zoned::now();
                (now.timestamp(), now.offset())
            }
        };
        let mut new = NewReading::manual(m, at, offset);
        if let Some(comparator) = comparator {
            let metric = self.kind.metrics()[0];
            if m.values().len() != 1 {
                return Err(user_error(
                    2,
                    "✗ '>' and '<' are for single values, e.g. glucose >33.3",
                ));
            }
            new.off_scale.push(OffScale { metric, comparator });
        }
        new.note = self.note.clone();
        new.quality = QualityFlags {
            cuff_fit_poor: self.cuff_loose,
            body_movement: self.moved,
            irregular_pulse: self.irregular,
            ..QualityFlags::GOOD
        };
        Ok(new)
    }
}

/// Finds a reading by full id or unique prefix.
fn find_id(ctx: &Ctx, nara: &nara_core::Nara, id: &str) -> anyhow::Result<ReadingId> {
    if let Some(full) = ReadingId::parse(id) {
        return Ok(full);
    }
    let all = nara.readings().list(&ReadingFilter {
        include_superseded: true,
        ..ReadingFilter::default()
    })?;
    let matches: Vec<&Reading> = all
        .iter()
        .filter(|r| r.id.to_string().starts_with(id))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => Err(user_error(
            1,
            format!("no reading with id {id} in {}", ctx.data_dir.display()),
        )),
        _ => Err(user_error(1, format!("id prefix {id} is ambiguous"))),
    }
}

/// Prints a stored reading (with "what to do now" when an advice article is stored).
pub fn print_reading(ctx: &Ctx, nara: &nara_core::Nara, r: &Reading) -> anyhow::Result<()> {
    if ctx.json {
        return print_json(r);
    }
    for line in render::reading_outcome(ctx, r) {
        println!("{line}");
    }
    let preferred = super::content::preferred_for(ctx.lang);
    if let Some(id) = super::content::advice_article_id(nara, r, preferred)? {
        println!("{}", super::content::advice_line(ctx, &id));
    }
    println!(
        "  {}",
        render::dim(ctx, &format!("{} · id {}", render::local_time(r), r.id))
    );
    Ok(())
}

/// Runs a reading subcommand.
pub fn run(ctx: &Ctx, cmd: ReadingCmd) -> anyhow::Result<()> {
    match cmd {
        ReadingCmd::Add(args) => {
            let new = args.to_new()?;
            let nara = ctx.open()?;
            let r = nara.readings().add(new)?;
            print_reading(ctx, &nara, &r)
        }
        ReadingCmd::Correct { id, reading } => {
            let new = reading.to_new()?;
            let nara = ctx.open()?;
            let old = find_id(ctx, &nara, &id)?;
            let r = nara.readings().correct(old, new)?;
            print_reading(ctx, &nara, &r)
        }
        ReadingCmd::List { kind, limit, all } => {
            let nara = ctx.open()?;
            let readings = nara.readings().list(&ReadingFilter {
                kind,
                include_superseded: all,
                limit: Some(limit),
                ..ReadingFilter::default()
            })?;
            if ctx.json {
                return print_json(&readings);
            }
            println!("{}", render::readings_table(ctx, &readings));
            // One line per advice article, for the newest red or yellow reading it answers.
            let preferred = super::content::preferred_for(ctx.lang);
            let mut shown = Vec::new();
            for r in readings.iter().filter(|r| r.superseded_by.is_none()) {
                if let Some(id) = super::content::advice_article_id(&nara, r, preferred)? {
                    if !shown.contains(&id) {
                        println!(
                            "{}  ({} · {})",
                            super::content::advice_line(ctx, &id),
                            render::local_time(r),
                            render::short_id(r)
                        );
                        shown.push(id);
                    }
                }
            }
            Ok(())
        }
    }
}
