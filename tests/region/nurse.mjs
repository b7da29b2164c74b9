// The care team, simulated: writes a patient's thresholds (Goal) and
// measurement schedule (CarePlan) straight to the FHIR server, without a token,
// as the region's own systems would. Run through tests/region/nurse.
//
// Usage (see tests/region/README.md):
//   nurse thresholds PATIENT KIND --METRIC-green LO-HI --METRIC-yellow LO-HI ... [--gain KG/DAYS:BAND ...]
//   nurse thresholds PATIENT --file thresholds.json
//   nurse withdraw   PATIENT KIND            (the Goal becomes cancelled: defaults apply)
//   nurse schedule   PATIENT KIND --times 08:00,20:00 [--days N] [--start YYYY-MM-DD]
//                    [--days-of-week mon,wed,fri] [--window MIN] [--time-zone Europe/Stockholm]
//                    [--text-sv "..."] [--text-en "..."]
//   nurse unschedule PATIENT KIND            (that activity becomes stopped)
//   nurse show       PATIENT
// Options: --fhir URL (default $NARA_FHIR_DIRECT_URL, else $NARA_REGION_DIR/env).
//
// The format is docs/adr/0007-fhir-mapping.md §6 and §7:
// - one Goal per patient and reading kind, id `<patient>-threshold-<kind>`,
//   identifier https://nara.se/fhir/sid/threshold|<patient>/<kind>,
//   lifecycleStatus active, subject, description.coding = the kind's
//   Observation code, and per metric two targets (measure = the metric's
//   code, detailRange {low, high} in its canonical UCUM unit, extension
//   https://nara.se/fhir/StructureDefinition/band valueCode green | yellow);
//   body weight may carry weight-gain-rule extensions;
// - one CarePlan per patient, id `<patient>-measurement-schedule`, identifier
//   https://nara.se/fhir/sid/measurement-schedule|<patient>, status active,
//   intent plan, one activity per reading kind: detail.kind ServiceRequest,
//   detail.code = the kind's code, detail.status scheduled,
//   detail.scheduledTiming.repeat {boundsPeriod {start, end}, timeOfDay,
//   dayOfWeek}; a kind's live activity is replaced in place (the schedule id
//   is the activity's index), a new kind is appended.
// Writes are PUTs to those ids: re-running updates (the server bumps
// meta.versionId and meta.lastUpdated) instead of adding copies.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SD = 'https://nara.se/fhir/StructureDefinition';
const BAND_URL = `${SD}/band`;
const THRESHOLD_SID = 'https://nara.se/fhir/sid/threshold';
const SCHEDULE_SID = 'https://nara.se/fhir/sid/measurement-schedule';
const NARA_OBS = 'https://nara.se/fhir/CodeSystem/observation';
const LIVE = ['not-started', 'scheduled', 'in-progress'];

const loinc = (code, display) => ({ system: LOINC, code, display });

// Metrics (docs/adr/0004-codes-and-units.md, core/src/domain/reading.rs).
const METRICS = {
  systolic: { coding: loinc('8480-6', 'Systolic blood pressure'), unit: 'mm[Hg]' },
  diastolic: { coding: loinc('8462-4', 'Diastolic blood pressure'), unit: 'mm[Hg]' },
  pulse: { coding: loinc('8867-4', 'Heart rate'), unit: '/min' },
  'heart-rate': { coding: loinc('8867-4', 'Heart rate'), unit: '/min' },
  weight: { coding: loinc('29463-7', 'Body weight'), unit: 'kg' },
  glucose: { coding: loinc('14743-9', 'Glucose [Moles/volume] in Capillary blood by Glucometer'), unit: 'mmol/L' },
  spo2: { coding: loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'), unit: '%' },
  'peak-flow': { coding: loinc('19935-6', 'Maximum expiratory gas flow Respiratory system airway by Peak flow meter'), unit: 'L/min' },
  temperature: { coding: loinc('8310-5', 'Body temperature'), unit: 'Cel' },
  steps: { coding: loinc('55423-8', 'Number of steps in unspecified time Pedometer'), unit: '{steps}' },
  cat: { coding: { system: NARA_OBS, code: 'cat-total-score', display: 'COPD Assessment Test (CAT) total score' }, unit: '{score}' },
};

// Reading kinds: the Observation code (the panel for blood pressure), the
// metrics, and the Swedish and English names.
const KINDS = {
  bp: { coding: loinc('85354-9', 'Blood pressure panel with all children optional'), metrics: ['systolic', 'diastolic', 'pulse'], sv: 'Blodtryck', en: 'Blood pressure' },
  'heart-rate': { coding: METRICS['heart-rate'].coding, metrics: ['heart-rate'], sv: 'Puls', en: 'Heart rate' },
  weight: { coding: METRICS.weight.coding, metrics: ['weight'], sv: 'Vikt', en: 'Weight' },
  glucose: { coding: METRICS.glucose.coding, metrics: ['glucose'], sv: 'Blodsocker', en: 'Blood glucose' },
  spo2: { coding: METRICS.spo2.coding, metrics: ['spo2', 'pulse'], sv: 'Syremättnad', en: 'Oxygen saturation' },
  'peak-flow': { coding: METRICS['peak-flow'].coding, metrics: ['peak-flow'], sv: 'PEF (utandningsflöde)', en: 'Peak flow' },
  temperature: { coding: METRICS.temperature.coding, metrics: ['temperature'], sv: 'Temperatur', en: 'Temperature' },
  steps: { coding: METRICS.steps.coding, metrics: ['steps'], sv: 'Steg', en: 'Steps' },
  cat: { coding: METRICS.cat.coding, metrics: ['cat'], sv: 'CAT-poäng (KOL)', en: 'CAT score (COPD)' },
};

function usage(msg) {
  if (msg) console.error(`nurse: ${msg}`);
  console.error(`usage:
  nurse thresholds PATIENT KIND --METRIC-green LO-HI --METRIC-yellow LO-HI ... [--gain KG/DAYS:BAND ...]
  nurse thresholds PATIENT --file thresholds.json
      ({"bp": {"systolic": {"green": [90, 135], "yellow": [80, 160]}, ...},
        "weight": {"gain": [{"kg": 2, "days": 3, "band": "yellow"}]}})
  nurse withdraw   PATIENT KIND
  nurse schedule   PATIENT KIND --times HH:MM[,HH:MM...] [--days N] [--start YYYY-MM-DD]
                   [--days-of-week mon,wed,fri] [--window MINUTES] [--time-zone ZONE]
                   [--text-sv TEXT] [--text-en TEXT]
  nurse unschedule PATIENT KIND
  nurse show       PATIENT
options: --fhir URL  (default $NARA_FHIR_DIRECT_URL, else the region's env file)
ranges:  LO-HI; an open end is allowed (80- or -160)
kinds:   ${Object.keys(KINDS).map((k) => `${k} (${KINDS[k].metrics.join(', ')})`).join('; ')}`);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opts = { gain: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '-h' || a === '--help') usage();
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      let key;
      let value;
      if (eq > 0) {
        key = a.slice(2, eq);
        value = a.slice(eq + 1);
      } else {
        if (i + 1 >= argv.length) usage(`${a} needs a value`);
        key = a.slice(2);
        value = argv[i + 1];
        i += 1;
      }
      if (key === 'gain') opts.gain.push(value); else opts[key] = value;
    } else pos.push(a);
  }
  return { pos, opts };
}

function fhirBase(opts) {
  if (opts.fhir) return opts.fhir.replace(/\/+$/, '');
  if (process.env.NARA_FHIR_DIRECT_URL) return process.env.NARA_FHIR_DIRECT_URL.replace(/\/+$/, '');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const stateDir = process.env.NARA_REGION_DIR || path.join(here, '..', '..', 'target', 'region');
  try {
    const env = fs.readFileSync(path.join(stateDir, 'env'), 'utf8');
    const m = /^NARA_FHIR_DIRECT_URL=(.*)$/m.exec(env);
    if (m) return m[1].trim();
  } catch { /* fall through */ }
  console.error(`nurse: no FHIR server: pass --fhir URL, set NARA_FHIR_DIRECT_URL or start tests/region/up (no ${stateDir}/env)`);
  process.exit(2);
}

async function fhir(base, method, rel, body) {
  const res = await fetch(`${base}/${rel}`, {
    method,
    headers: { accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, json, text };
}

async function get(base, rel) {
  const r = await fhir(base, 'GET', rel);
  if (r.status === 404 || r.status === 410) return undefined;
  if (r.status !== 200) throw new Error(`GET ${rel} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r.json;
}

async function put(base, resource) {
  const r = await fhir(base, 'PUT', `${resource.resourceType}/${resource.id}`, resource);
  if (r.status !== 200 && r.status !== 201) {
    throw new Error(`PUT ${resource.resourceType}/${resource.id} answered ${r.status}: ${r.text.slice(0, 500)}`);
  }
  const meta = r.json?.meta || {};
  console.log(`${r.status === 201 ? 'created' : 'updated'} ${resource.resourceType}/${resource.id}`
    + ` (version ${meta.versionId ?? '?'}, lastUpdated ${meta.lastUpdated ?? '?'})`);
  return r.json;
}

const NUM = '(\\d+(?:\\.\\d+)?)';
function parseRange(text, what) {
  const t = Array.isArray(text) ? text.map((v) => (v ?? '')).join('-') : String(text);
  const m = new RegExp(`^\\s*${NUM}?\\s*-\\s*${NUM}?\\s*$`).exec(t);
  if (!m || (m[1] === undefined && m[2] === undefined)) {
    usage(`${what}: expected LO-HI (e.g. 90-135, 80- or -160), got '${t}'`);
  }
  const low = m[1] === undefined ? undefined : Number(m[1]);
  const high = m[2] === undefined ? undefined : Number(m[2]);
  if (low !== undefined && high !== undefined && low > high) usage(`${what}: low ${low} is above high ${high}`);
  return [low, high];
}

function parseGain(g, what) {
  if (typeof g === 'object') return { kg: Number(g.kg), days: Number(g.days), band: g.band };
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:kg)?\s*\/\s*(\d+)\s*d?\s*:\s*(yellow|red)\s*$/.exec(g);
  if (!m) usage(`${what}: expected KG/DAYS:BAND, e.g. 2/3:yellow, got '${g}'`);
  return { kg: Number(m[1]), days: Number(m[2]), band: m[3] };
}

function quantity(value, unit) {
  return { value, unit, system: UCUM, code: unit };
}

// Thresholds of one kind: { metrics: {metric: {green: [lo, hi], yellow: [lo, hi]}}, gain: [...] }
function goalFor(patient, kind, spec) {
  const def = KINDS[kind];
  const target = [];
  for (const [metric, bands] of Object.entries(spec.metrics)) {
    const m = METRICS[metric];
    for (const band of ['green', 'yellow']) {
      const [low, high] = bands[band];
      target.push({
        extension: [{ url: BAND_URL, valueCode: band }],
        measure: { coding: [m.coding] },
        detailRange: {
          ...(low !== undefined ? { low: quantity(low, m.unit) } : {}),
          ...(high !== undefined ? { high: quantity(high, m.unit) } : {}),
        },
      });
    }
  }
  const extension = spec.gain.map((g) => ({
    url: `${SD}/weight-gain-rule`,
    extension: [
      { url: 'maxGain', valueQuantity: quantity(g.kg, 'kg') },
      { url: 'days', valueInteger: g.days },
      { url: 'band', valueCode: g.band },
    ],
  }));
  return {
    resourceType: 'Goal',
    id: `${patient}-threshold-${kind}`,
    ...(extension.length ? { extension } : {}),
    identifier: [{ system: THRESHOLD_SID, value: `${patient}/${kind}` }],
    lifecycleStatus: 'active',
    description: { coding: [def.coding], text: `Målvärden: ${def.sv}` },
    subject: { reference: `Patient/${patient}` },
    ...(target.length ? { target } : {}),
  };
}

function checkSpec(kind, spec) {
  const def = KINDS[kind];
  for (const [metric, bands] of Object.entries(spec.metrics)) {
    if (!def.metrics.includes(metric)) usage(`metric ${metric} is not part of ${kind} (${def.metrics.join(', ')})`);
    if (!bands.green || !bands.yellow) usage(`${metric}: give both a green and a yellow range`);
    const [gl, gh] = bands.green;
    const [yl, yh] = bands.yellow;
    const encloses = (yl === undefined || (gl !== undefined && yl <= gl)) && (yh === undefined || (gh !== undefined && yh >= gh));
    if (!encloses) usage(`${metric}: the yellow range must enclose the green range`);
  }
  if (spec.gain.length && kind !== 'weight') usage('--gain is for the kind weight only');
  for (const g of spec.gain) {
    if (!(g.kg > 0) || !Number.isInteger(g.days) || g.days < 1 || g.days > 31 || !['yellow', 'red'].includes(g.band)) {
      usage(`bad weight-gain rule ${JSON.stringify(g)} (kg > 0, days 1-31, band yellow or red)`);
    }
  }
  if (!Object.keys(spec.metrics).length && !spec.gain.length) usage(`no thresholds given for ${kind}`);
}

async function thresholds(base, patient, kind, opts) {
  const specs = {};
  if (opts.file) {
    const raw = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
    for (const [k, metrics] of Object.entries(raw)) {
      if (!KINDS[k]) usage(`unknown kind '${k}' in ${opts.file}`);
      const spec = { metrics: {}, gain: (metrics.gain || []).map((g) => parseGain(g, `${k} gain`)) };
      for (const [metric, bands] of Object.entries(metrics)) {
        if (metric === 'gain') continue;
        if (!METRICS[metric]) usage(`unknown metric '${metric}' in ${opts.file}`);
        spec.metrics[metric] = {};
        for (const band of ['green', 'yellow']) {
          if (bands[band] !== undefined) spec.metrics[metric][band] = parseRange(bands[band], `${k} ${metric} ${band}`);
        }
      }
      specs[k] = spec;
    }
  } else {
    if (!KINDS[kind]) usage(`unknown kind '${kind ?? ''}'`);
    const spec = { metrics: {}, gain: opts.gain.map((g) => parseGain(g, '--gain')) };
    for (const [key, value] of Object.entries(opts)) {
      if (key === 'fhir' || key === 'gain') continue;
      const m = /^(.+)-(green|yellow)$/.exec(key);
      if (!m || !METRICS[m[1]]) usage(`unknown option --${key}`);
      spec.metrics[m[1]] ??= {};
      spec.metrics[m[1]][m[2]] = parseRange(value, `--${key}`);
    }
    specs[kind] = spec;
  }
  if (!Object.keys(specs).length) usage('no thresholds given');
  for (const [k, spec] of Object.entries(specs)) checkSpec(k, spec);
  for (const [k, spec] of Object.entries(specs)) await put(base, goalFor(patient, k, spec));
}

async function withdraw(base, patient, kind) {
  if (!KINDS[kind]) usage(`unknown kind '${kind ?? ''}'`);
  const id = `${patient}-threshold-${kind}`;
  const goal = await get(base, `Goal/${id}`);
  if (!goal) {
    console.log(`no Goal/${id}: nothing to withdraw`);
    return;
  }
  delete goal.meta;
  goal.lifecycleStatus = 'cancelled';
  await put(base, goal);
}

function parseTime(t) {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) usage(`bad time '${t}' (HH:MM)`);
  return `${m[1].padStart(2, '0')}:${m[2]}:${m[3] ?? '00'}`;
}

const sameKind = (def) => (a) => (a.detail?.code?.coding || [])
  .some((c) => c.system === def.coding.system && c.code === def.coding.code);

async function schedule(base, patient, kind, opts) {
  const def = KINDS[kind];
  if (!def) usage(`unknown kind '${kind ?? ''}'`);
  if (!opts.times) usage('--times is required, e.g. --times 08:00,20:00');
  const times = [...new Set(opts.times.split(',').filter(Boolean).map(parseTime))].sort();
  const start = opts.start ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) usage('--start must be YYYY-MM-DD');
  let end;
  if (opts.days !== undefined) {
    const days = Number(opts.days);
    if (!Number.isInteger(days) || days < 1) usage('--days must be a positive whole number');
    end = new Date(Date.parse(`${start}T00:00:00Z`) + (days - 1) * 86400000).toISOString().slice(0, 10);
  }
  const dayOfWeek = opts['days-of-week']?.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
  for (const d of dayOfWeek || []) {
    if (!['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].includes(d)) usage(`bad day '${d}' (mon...sun)`);
  }
  const extension = [];
  if (opts.window !== undefined) {
    const w = Number(opts.window);
    if (!Number.isInteger(w) || w < 1) usage('--window is whole minutes');
    extension.push({ url: `${SD}/measurement-window`, valueDuration: { value: w, unit: 'min', system: UCUM, code: 'min' } });
  }
  const hhmm = times.map((t) => t.slice(0, 5));
  const sv = opts['text-sv'] ?? `Mät ${def.sv.toLowerCase()} kl. ${hhmm.join(' och ')}.`;
  const en = opts['text-en'] ?? `Measure ${def.en.toLowerCase()} at ${hhmm.join(' and ')}.`;
  const activity = {
    detail: {
      ...(extension.length ? { extension } : {}),
      kind: 'ServiceRequest',
      code: { coding: [def.coding] },
      status: 'scheduled',
      scheduledTiming: {
        ...(opts['time-zone'] ? { extension: [{ url: `${SD}/time-zone`, valueCode: opts['time-zone'] }] } : {}),
        repeat: {
          boundsPeriod: { start, ...(end ? { end } : {}) },
          ...(dayOfWeek?.length ? { dayOfWeek } : {}),
          timeOfDay: times,
        },
      },
      description: sv,
      ...(en !== sv ? {
        _description: {
          extension: [{
            url: 'http://hl7.org/fhir/StructureDefinition/translation',
            extension: [{ url: 'lang', valueCode: 'en' }, { url: 'content', valueString: en }],
          }],
        },
      } : {}),
    },
  };

  const plan = await carePlan(base, patient);
  // Schedule ids are the activity index: replace the kind's live activity in
  // place, else append (never reorder).
  const i = plan.activity.findIndex((a) => sameKind(def)(a) && LIVE.includes(a.detail?.status));
  if (i >= 0) plan.activity[i] = activity; else plan.activity.push(activity);
  await put(base, plan);
}

async function carePlan(base, patient) {
  const id = `${patient}-measurement-schedule`;
  const current = await get(base, `CarePlan/${id}`);
  if (current) {
    delete current.meta;
    current.activity ??= [];
    current.status = 'active';
    return current;
  }
  return {
    resourceType: 'CarePlan',
    id,
    identifier: [{ system: SCHEDULE_SID, value: patient }],
    status: 'active',
    intent: 'plan',
    title: 'Mätschema',
    subject: { reference: `Patient/${patient}` },
    activity: [],
  };
}

async function unschedule(base, patient, kind) {
  const def = KINDS[kind];
  if (!def) usage(`unknown kind '${kind ?? ''}'`);
  const plan = await carePlan(base, patient);
  const live = plan.activity.filter((a) => sameKind(def)(a) && LIVE.includes(a.detail?.status));
  if (!live.length) {
    console.log(`no live ${kind} activity in CarePlan/${plan.id}: nothing to stop`);
    return;
  }
  for (const a of live) a.detail.status = 'stopped';
  await put(base, plan);
}

async function show(base, patient) {
  for (const type of ['Goal', 'CarePlan']) {
    const bundle = await get(base, `${type}?subject=Patient/${encodeURIComponent(patient)}&_count=100`);
    for (const e of bundle?.entry || []) console.log(JSON.stringify(e.resource, null, 2));
  }
}

const { pos, opts } = parseArgs(process.argv.slice(2));
const [command, patient, kind] = pos;
if (!command || command === 'help') usage();
if (!patient) usage('PATIENT is missing (a Patient id, e.g. anna-1)');
const base = fhirBase(opts);
try {
  if (command === 'thresholds') await thresholds(base, patient, kind, opts);
  else if (command === 'withdraw') await withdraw(base, patient, kind);
  else if (command === 'schedule') await schedule(base, patient, kind, opts);
  else if (command === 'unschedule') await unschedule(base, patient, kind);
  else if (command === 'show') await show(base, patient);
  else usage(`unknown command '${command}'`);
} catch (e) {
  console.error(`nurse: ${e.message}`);
  process.exit(1);
}
