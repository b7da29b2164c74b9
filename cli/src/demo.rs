//! `nara demo`: a scripted week of Anna's home monitoring, in a throwaway store.
//!
//! Deterministic values, a movable clock, a sync with the test region (started on
//! loopback by `tests/region/up`, or `--region URL`, or none with `--offline`; see
//! [`crate::demo_region`]), and at the end a scan of every file in the data dir for
//! plaintext patient data.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::Context as _;
use clap::Args;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use nara_core::domain::reading::{
    Measurement, Metric, NewReading, QualityFlags, Reading, ReadingKind,
};
use nara_core::domain::schedule::MeasurementSchedule;
use nara_core::domain::text::{Lang, LocalizedText};
use nara_core::domain::triage::{
    Band, Bands, MetricThreshold, Range, RuleVersion, ThresholdOrigin,
};
use nara_core::domain::units::GlucoseUnit;
use nara_core::{Change, FileKeyProvider, Nara, Next, ReadingFilter};

use crate::commands::schedule::{adherence_so_far, adherence_str};
use crate::commands::{Ctx, default_key_path, print_json, user_error};
use crate::render;
use crate::render::tr;

/// Arguments of `nara demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's data in this (new or empty) directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Sync with a region that is already running at this FHIR URL instead of starting
    /// the test region (`tests/region/up`) on loopback.
    #[arg(long, value_name = "URL", conflicts_with = "offline")]
    pub region: Option<String>,
    /// The test login's user (default: NARA_TEST_USER from the region, else anna).
    #[arg(long, value_name = "USER", conflicts_with = "offline")]
    pub test_login: Option<String>,
    /// Only the local story: no region, no sync.
    #[arg(long)]
    pub offline: bool,
}

const TZ: &str = "Europe/Stockholm";
const NOTE_DIZZY: &str = "yr i huvudet";
const NOTE_LATE: &str = "tog tabletterna sent";
const BP_SCHEDULE: &str = "bp-morning-evening";
const WEIGHT_SCHEDULE: &str = "weight-morning";

/// The story's narrator: prints unless JSON was asked for.
struct Story<'a> {
    ctx: &'a Ctx,
    step: u32,
}

impl Story<'_> {
    fn say(&self, line: impl AsRef<str>) {
        if !self.ctx.json {
            println!("{}", line.as_ref());
        }
    }

    fn heading(&mut self, sv: &str, en: &str) {
        self.step += 1;
        let title = format!("{}. {}", self.step, tr(self.ctx.lang, sv, en));
        self.say("");
        self.say(render::heading(self.ctx, &title));
    }
}

/// A clock the demo moves by hand.
struct DemoClock {
    secs: Arc<AtomicI64>,
}

impl DemoClock {
    fn set(&self, at: Timestamp) {
        self.secs.store(at.as_second(), Ordering::SeqCst);
    }
}

/// One BP slot of the week: (systolic, diastolic, pulse) or a missed slot.
type Bp = Option<(f64, f64, f64)>;

/// Anna's week: morning and evening blood pressure (day 0 = seven days ago).
const WEEK: [(Bp, Bp); 7] = [
    (Some((134.0, 84.0, 68.0)), Some((131.0, 82.0, 70.0))),
    (Some((138.0, 86.0, 71.0)), Some((129.0, 80.0, 66.0))),
    (Some((136.0, 85.0, 69.0)), Some((132.0, 83.0, 67.0))), // morning: cuff loose first
    (Some((145.0, 92.0, 74.0)), Some((128.0, 84.0, 68.0))), // evening: typo first
    (Some((137.0, 86.0, 70.0)), None),                      // evening missed
    (Some((139.0, 88.0, 72.0)), Some((178.0, 106.0, 88.0))), // evening: red
    (Some((133.0, 84.0, 69.0)), Some((130.0, 81.0, 66.0))),
];

/// Morning weights, kg: +2.2 kg in the last three days.
const WEIGHTS: [f64; 7] = [82.0, 82.1, 81.9, 82.3, 83.0, 83.7, 84.5];

fn weekday(lang: Lang, d: Date) -> String {
    let i = d.weekday().to_monday_zero_offset() as usize;
    let sv = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"];
    let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let name = if lang == Lang::Sv { sv[i] } else { en[i] };
    format!("{name} {}", d.strftime("%Y-%m-%d"))
}

struct Scene<'a> {
    nara: Nara,
    clock: DemoClock,
    tz: TimeZone,
    today: Date,
    story: Story<'a>,
    entered: Vec<Reading>,
}

impl Scene<'_> {
    fn at(&self, day: i64, h: i8, m: i8) -> anyhow::Result<Zoned> {
        let date = self
            .today
            .checked_sub(SignedDuration::from_hours(24 * (7 - day)))?;
        Ok(date
            .to_datetime(Time::new(h, m, 0, 0)?)
            .to_zoned(self.tz.clone())?)
    }

    /// Enters a reading at `when` (the clock moves to a minute later) and narrates it.
    fn enter(
        &mut self,
        when: &Zoned,
        m: Measurement,
        quality: QualityFlags,
        note: Option<&str>,
    ) -> anyhow::Result<Reading> {
        self.clock
            .set(when.timestamp() + SignedDuration::from_mins(1));
        let mut new = NewReading::manual(m, when.timestamp(), when.offset());
        new.quality = quality;
        new.note = note.map(str::to_owned);
        let r = self.nara.readings().add(new)?;
        self.narrate(&r);
        self.entered.push(r.clone());
        Ok(r)
    }

    fn narrate(&self, r: &Reading) {
        let ctx = self.story.ctx;
        let lang = ctx.lang;
        let note = r
            .note
            .as_deref()
            .map(|n| format!("  ✎ «{n}»"))
            .unwrap_or_default();
        self.story.say(format!(
            "  {}  {:<11} {:<24} {}{note}",
            r.local_time().strftime("%H:%M"),
            r.kind().label().get(lang),
            r.measurement.display(lang),
            render::band(ctx, r.triage.band)
        ));
        if !matches!(r.triage.band, Band::Green | Band::NotAssessed) {
            self.story.say(format!(
                "         {}",
                render::dim(ctx, &r.triage.reason_in(lang))
            ));
            self.story.say(format!(
                "         → {}",
                render::paint(ctx, r.triage.band, r.triage.advice().get(lang))
            ));
        }
    }
}

fn bp(s: f64, d: f64, p: f64) -> Measurement {
    Measurement::BloodPressure {
        systolic: s,
        diastolic: d,
        pulse: Some(p),
    }
}

/// Counts occurrences of each needle in every file under `dir`.
fn plaintext_hits(dir: &Path, needles: &[&str]) -> anyhow::Result<(usize, usize)> {
    let mut files = 0;
    let mut hits = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path)?;
            files += 1;
            for n in needles {
                hits += bytes
                    .windows(n.len())
                    .filter(|w| *w == n.as_bytes())
                    .count();
            }
        }
    }
    Ok((files, hits))
}

/// Runs the demo.
pub fn run(ctx: &Ctx, args: &DemoArgs) -> anyhow::Result<()> {
    let tmp_data = tempfile::Builder::new()
        .prefix("nara-demo-data")
        .tempdir()?;
    let tmp_keys = tempfile::Builder::new()
        .prefix("nara-demo-keys")
        .tempdir()?;
    let (data_dir, key_path) = match &args.keep {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                return Err(user_error(
                    1,
                    format!("--keep {}: directory is not empty", dir.display()),
                ));
            }
            std::fs::create_dir_all(dir)?;
            let key = default_key_path(dir);
            if let Some(parent) = key.parent() {
                std::fs::create_dir_all(parent)?;
            }
            (dir.clone(), key)
        }
        None => (
            tmp_data.path().to_path_buf(),
            tmp_keys.path().join("demo.key"),
        ),
    };
    let lang = ctx.lang;
    let mut story = Story { ctx, step: 0 };

    // 1. Anna opens Nära.
    story.heading(
        "Anna, 68, Jämtland, hypertension och hjärtsvikt, öppnar Nära",
        "Anna, 68, Jämtland, hypertension and heart failure, opens Nära",
    );
    let tz = TimeZone::get(TZ)?;
    let today = Timestamp::now().to_zoned(tz.clone()).date();
    let start = today.checked_sub(SignedDuration::from_hours(24 * 7))?;
    let secs = Arc::new(AtomicI64::new(
        start.to_zoned(tz.clone())?.timestamp().as_second() + 7 * 3600,
    ));
    let clock_secs = Arc::clone(&secs);
    let nara = Nara::open_with_clock(
        &data_dir,
        Arc::new(FileKeyProvider::new(&key_path)),
        Arc::new(move || {
            Timestamp::from_second(clock_secs.load(Ordering::SeqCst))
                .unwrap_or(Timestamp::UNIX_EPOCH)
        }),
    )
    .context("opening the demo store")?;
    let mut events = nara.subscribe();
    let report = nara.open_report().clone();
    story.say(format!(
        "  store: {} (encrypted; data key wrapped by a key file kept outside the data dir)",
        if report.created { "created" } else { "opened" }
    ));
    story.say(format!("  data dir: {}", data_dir.display()));
    if let Some(q) = &report.quarantined {
        story.say(render::alert(
            ctx,
            &format!("  ⚠ QUARANTINED {:?}: {}", q.reason, q.path.display()),
        ));
    }

    let mut scene = Scene {
        nara,
        clock: DemoClock { secs },
        tz,
        today,
        story,
        entered: Vec::new(),
    };

    // 2. The care team's plan.
    scene.story.heading(
        "Vårdteamet lägger in gränsvärden och mätschema",
        "The care team sets thresholds and a schedule",
    );
    let mut set = scene
        .nara
        .care_plan()
        .thresholds(ReadingKind::BloodPressure)?;
    for (metric, green, yellow) in [
        (
            Metric::Systolic,
            Range::between(100.0, 140.0),
            Range::between(90.0, 170.0),
        ),
        (
            Metric::Diastolic,
            Range::between(60.0, 90.0),
            Range::between(50.0, 105.0),
        ),
    ] {
        match set.metrics.iter_mut().find(|m| m.metric == metric) {
            Some(m) => m.bands = Bands::new(green, yellow),
            None => set.metrics.push(MetricThreshold {
                metric,
                bands: Bands::new(green, yellow),
            }),
        }
    }
    set.rule = RuleVersion {
        origin: ThresholdOrigin::CareTeam,
        version: 2,
    };
    scene.nara.care_plan().set_thresholds(set.clone())?;
    scene.story.say(format!(
        "  {} · rule {}: ",
        ReadingKind::BloodPressure.label().get(lang),
        set.rule
    ));
    scene
        .story
        .say("    systolic  green 100..140  yellow 90..170   (red outside)");
    scene
        .story
        .say("    diastolic green  60..90   yellow 50..105  (red outside)");
    let mut bp_schedule = MeasurementSchedule::twice_daily(
        BP_SCHEDULE,
        ReadingKind::BloodPressure,
        start,
        Some(7),
        TZ,
    );
    bp_schedule.instructions = Some(LocalizedText::new(
        "Blodtryck morgon och kväll i 7 dagar",
        "BP morning and evening for 7 days",
    ));
    scene.nara.care_plan().set_schedule(bp_schedule)?;
    let mut weight_schedule =
        MeasurementSchedule::twice_daily(WEIGHT_SCHEDULE, ReadingKind::BodyWeight, start, None, TZ);
    weight_schedule.times = vec![Time::constant(8, 0, 0, 0)];
    weight_schedule.instructions = Some(LocalizedText::new(
        "Väg dig varje morgon",
        "Weigh yourself every morning",
    ));
    scene.nara.care_plan().set_schedule(weight_schedule)?;
    scene.story.say(format!(
        "  {}: 08:00 + 20:00 ±90 min, {start}, 7 {}",
        tr(
            lang,
            "Schema «Blodtryck morgon och kväll i 7 dagar»",
            "Schedule \"BP morning and evening for 7 days\""
        ),
        tr(lang, "dagar", "days")
    ));
    scene.story.say(format!(
        "  {}: 08:00 ±90 min, {start} →",
        tr(
            lang,
            "Schema «Väg dig varje morgon»",
            "Schedule \"Weigh yourself every morning\""
        )
    ));

    // 3. The week.
    scene
        .story
        .heading("En vecka av mätningar", "A week of readings");
    let mut typo: Option<Reading> = None;
    for (day, (morning, evening)) in WEEK.iter().enumerate() {
        let day = day as i64;
        let date = scene.at(day, 0, 0)?.date();
        scene.story.say(render::dim(ctx, &weekday(lang, date)));
        let w = scene.at(day, 7, 45)?;
        scene.enter(
            &w,
            Measurement::BodyWeight {
                kg: WEIGHTS[day as usize],
            },
            QualityFlags::GOOD,
            None,
        )?;
        if let Some((s, d, p)) = *morning {
            let t = scene.at(day, 8, 4)?;
            if day == 2 {
                let loose = QualityFlags {
                    cuff_fit_poor: true,
                    ..QualityFlags::GOOD
                };
                scene.enter(&t, bp(162.0, 97.0, 80.0), loose, None)?;
                scene.story.say(format!(
                    "         {}",
                    tr(
                        lang,
                        "Anna vilar fem minuter, sätter manschetten rätt och mäter igen:",
                        "Anna rests five minutes, fixes the cuff and measures again:"
                    )
                ));
                let again = scene.at(day, 8, 10)?;
                scene.enter(&again, bp(s, d, p), QualityFlags::GOOD, None)?;
            } else {
                let note = (day == 6).then_some(NOTE_LATE);
                scene.enter(&t, bp(s, d, p), QualityFlags::GOOD, note)?;
            }
        }
        if day == 4 {
            let g = scene.at(day, 10, 30)?;
            scene.story.say(format!(
                "         {}",
                tr(
                    lang,
                    "Blodsocker från en lånad mätare i mg/dL: 126 mg/dL →",
                    "Glucose from a borrowed meter in mg/dL: 126 mg/dL →"
                )
            ));
            scene.enter(
                &g,
                Measurement::blood_glucose(126.0, GlucoseUnit::MgPerDl),
                QualityFlags::GOOD,
                None,
            )?;
        }
        match *evening {
            None => scene.story.say(format!(
                "  20:00  {}",
                tr(
                    lang,
                    "— ingen kvällsmätning (missad)",
                    "— no evening reading (missed)"
                )
            )),
            Some((s, d, p)) => {
                let t = scene.at(day, 20, 12)?;
                if day == 3 {
                    let wrong = scene.enter(&t, bp(158.0, d, p), QualityFlags::GOOD, None)?;
                    typo = Some(wrong);
                } else {
                    let note = (day == 5).then_some(NOTE_DIZZY);
                    scene.enter(&t, bp(s, d, p), QualityFlags::GOOD, note)?;
                }
            }
        }
        if let (3, Some(wrong)) = (day, typo.as_ref()) {
            let (s, d, p) = evening.unwrap_or((128.0, 84.0, 68.0));
            scene.story.say(format!(
                "         {}",
                tr(
                    lang,
                    "Skrivfel! Anna menade 128, inte 158. Rättelse (den gamla sparas som ersatt):",
                    "Typo! Anna meant 128, not 158. Correction (the old one is kept, superseded):"
                )
            ));
            let t = scene.at(day, 20, 12)?;
            scene
                .clock
                .set(t.timestamp() + SignedDuration::from_mins(3));
            let mut new = NewReading::manual(bp(s, d, p), t.timestamp(), t.offset());
            new.quality = QualityFlags::GOOD;
            let fixed = scene.nara.readings().correct(wrong.id, new)?;
            scene.narrate(&fixed);
            scene.entered.push(fixed);
        }
    }
    // Today, before her morning measurement.
    let now = scene.at(7, 7, 15)?;
    scene.clock.set(now.timestamp());
    scene.story.say(render::dim(
        ctx,
        &format!(
            "{} {} 07:15",
            tr(lang, "Nu:", "Now:"),
            weekday(lang, now.date())
        ),
    ));

    // 4. The list.
    scene.story.heading(
        "Alla mätningar (även ersatta)",
        "All readings (superseded included)",
    );
    let all = scene.nara.readings().list(&ReadingFilter {
        include_superseded: true,
        ..ReadingFilter::default()
    })?;
    scene.story.say(render::readings_table(ctx, &all));

    // 5. Trend.
    scene
        .story
        .heading("Blodtryck, 7 dagar", "Blood pressure, 7 days");
    let summary = scene.nara.trends().summary(ReadingKind::BloodPressure, 7)?;
    scene.story.say(render::summary_table(ctx, &summary));
    let series = render::plot_metrics(ReadingKind::BloodPressure)
        .into_iter()
        .map(|m| {
            Ok((
                m,
                scene
                    .nara
                    .trends()
                    .series(ReadingKind::BloodPressure, m, 7, 200)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    scene
        .story
        .say(render::plot(ctx, scene.nara.now(), 7, &series));

    // 6. Adherence and reminders.
    scene
        .story
        .heading("Följsamhet och påminnelser", "Adherence and reminders");
    let mut adherence = Vec::new();
    for s in scene.nara.care_plan().schedules()? {
        let a = adherence_so_far(&scene.nara, &s)?;
        let name = s
            .instructions
            .as_ref()
            .map(|i| i.get(lang).to_owned())
            .unwrap_or_else(|| s.id.clone());
        scene.story.say(format!("  {name}: {}", adherence_str(&a)));
        adherence.push(serde_json::json!({ "schedule": s.id, "adherence": a }));
    }
    let reminders = scene
        .nara
        .care_plan()
        .reminders(SignedDuration::from_hours(24))?;
    scene.story.say(format!(
        "  {}",
        tr(
            lang,
            "Nästa påminnelser (neutral text på låsskärmen):",
            "Next reminders (neutral lock-screen text):"
        )
    ));
    for r in &reminders {
        let local =
            r.at.to_zoned(scene.tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string();
        scene.story.say(format!(
            "    {local}  «{}» {}",
            r.title.get(lang),
            r.body.get(lang)
        ));
    }

    // 7. Live subscription.
    scene.story.heading(
        "Live-prenumeration: mottagna ändringar",
        "Live subscription: changes received",
    );
    let (mut added, mut thresholds, mut schedules, mut other) = (Vec::new(), 0, 0, 0);
    while let Some(next) = events.try_next() {
        match next {
            Next::Change(Change::ReadingAdded { band, .. }) => added.push(band),
            Next::Change(Change::ThresholdsChanged { .. }) => thresholds += 1,
            Next::Change(Change::ScheduleChanged) => schedules += 1,
            _ => other += 1,
        }
    }
    let by_band: Vec<String> = Band::ALL
        .into_iter()
        .map(|b| (b, added.iter().filter(|x| **x == b).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(b, n)| format!("{} {n}", render::band(ctx, b)))
        .collect();
    scene
        .story
        .say(format!("  ThresholdsChanged × {thresholds}"));
    scene
        .story
        .say(format!("  ScheduleChanged   × {schedules}"));
    scene.story.say(format!(
        "  ReadingAdded      × {}   ({})",
        added.len(),
        by_band.join(", ")
    ));
    if other > 0 {
        scene.story.say(format!("  other             × {other}"));
    }

    // 8. A Bluetooth cuff hands over its memory.
    scene.story.heading(
        "Annas blodtrycksmätare (Bluetooth) lämnar över sitt minne",
        "Anna's Bluetooth cuff hands over its memory",
    );
    scene.clock.set(scene.nara.now().max(Timestamp::now()));
    let device = {
        let story = &scene.story;
        crate::demo_device::device_step(ctx, &scene.nara, &scene.tz, &|line| story.say(line))
    };

    // 9. Sync with the region.
    let region = if args.offline {
        None
    } else {
        scene.story.heading(
            "Anna har täckning igen: synk med regionen",
            "Anna has signal again: sync with the region",
        );
        // The region lives in real time: the clock never goes back for the sync.
        scene.clock.set(scene.nara.now().max(Timestamp::now()));
        let story = &scene.story;
        Some(crate::demo_region::sync_step(
            ctx,
            &scene.nara,
            args,
            &|line| story.say(line),
        ))
    };
    let (region, link) = match region {
        Some((summary, link)) => (summary, link),
        None => (serde_json::Value::Null, None),
    };

    // 10. Chat with the care team.
    scene.story.heading(
        "Anna skriver till mottagningen",
        "Anna writes to the care team",
    );
    let chat = match &link {
        Some(link) => {
            let story = &scene.story;
            let clock = &scene.clock;
            let now = scene.nara.now();
            crate::demo_chat::chat_step(
                ctx,
                &scene.nara,
                link,
                &|| clock.set(now.max(Timestamp::now())),
                &|line| story.say(line),
            )
        }
        None => {
            scene.story.say(format!(
                "  {}",
                tr(
                    lang,
                    "Hoppas över: chatten behöver regionen (sjuksköterskesimulatorn skriver där).",
                    "Skipped: the chat needs the region (the nurse simulator writes there)."
                )
            ));
            serde_json::json!({ "skipped": true, "reason": "offline" })
        }
    };

    // 11. An appointment notice with a health declaration.
    scene.story.heading(
        "Kallelse till återbesök med hälsodeklaration",
        "A notice of a follow-up visit with a health declaration",
    );
    let notices = {
        let story = &scene.story;
        let clock = &scene.clock;
        let nara = &scene.nara;
        crate::demo_notices::notices_step(
            ctx,
            nara,
            link.as_ref(),
            &scene.tz,
            &|| clock.set(nara.now().max(Timestamp::now())),
            &|line| story.say(line),
        )
    };

    // 12. Self-care content.
    scene.story.heading(
        "Egenvård: artiklar från mottagningen",
        "Self-care: articles from the care team",
    );
    let content = {
        let story = &scene.story;
        let clock = &scene.clock;
        let nara = &scene.nara;
        let red = scene
            .entered
            .iter()
            .rev()
            .find(|r| r.triage.band == Band::Red && r.kind() == ReadingKind::BloodPressure);
        crate::demo_content::content_step(
            ctx,
            nara,
            link.as_ref(),
            red,
            &|| clock.set(nara.now().max(Timestamp::now())),
            &|line| story.say(line),
        )
    };

    // 13. Privacy.
    scene.story.heading(
        "Integritetskontroll: klartext i datakatalogen?",
        "Privacy check: plaintext in the data dir?",
    );
    let needles = [
        NOTE_DIZZY,
        NOTE_LATE,
        "\"systolic\"",
        "\"mmol_per_l\"",
        "\"note\"",
        crate::demo_chat::PATIENT_TEXT,
        crate::demo_chat::NURSE_TEXT,
        crate::demo_notices::MEDICINES,
        crate::demo_notices::SYMPTOMS,
    ];
    let (files, hits) = plaintext_hits(&data_dir, &needles)?;
    scene.story.say(format!(
        "  searched {files} files for {} strings ({})",
        needles.len(),
        needles.join(", ")
    ));
    scene.story.say(format!("  {hits} plaintext hits"));

    // 14. Integrity.
    scene
        .story
        .heading("Databasens integritet", "Database integrity");
    let integrity = scene.nara.integrity_ok()?;
    let pending = scene.nara.pending_uploads()?;
    scene.story.say(format!("  integrity_ok: {integrity}"));
    scene
        .story
        .say(format!("  pending uploads (outbox): {pending}"));
    if let Some(dir) = &args.keep {
        scene.story.say(format!(
            "  kept: {} (key: {})",
            dir.display(),
            key_path.display()
        ));
    }

    if ctx.json {
        print_json(&serde_json::json!({
            "readings": scene.nara.readings().count()?,
            "entered": scene.entered.len(),
            "bp_summary_7d": summary,
            "adherence": adherence,
            "reminders": reminders,
            "events": { "reading_added": added.len(), "thresholds_changed": thresholds, "schedule_changed": schedules },
            "plaintext_hits": hits,
            "files_scanned": files,
            "integrity_ok": integrity,
            "region": region,
            "chat": chat,
            "notices": notices,
            "content": content,
            "device": device,
        }))?;
    }
    if hits > 0 || !integrity {
        return Err(user_error(1, "demo checks failed"));
    }
    Ok(())
}
