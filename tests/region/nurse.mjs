// The care team, simulated: writes a patient's thresholds (Goal) and
// measurement schedule (CarePlan) straight to the FHIR server, without a token,
// as the region's own systems would. Run through tests/region/nurse.
//
// Usage (see tests/region/README.md):
//   nurse thresholds PATIENT KIND --METRIC-green LO-HI --METRIC-yellow LO-HI ...
//   nurse thresholds PATIENT --file thresholds.json
//   nurse schedule   PATIENT KIND --times 08:00,20:00 [--days 14] [--start YYYY-MM-DD]
//   nurse show       PATIENT
// Options: --fhir URL (default $NARA_FHIR_DIRECT_URL, else $NARA_REGION_DIR/env).
//
// The format (until docs/adr/0007-fhir-mapping.md says otherwise):
// - one Goal per metric, id `<patient>-threshold-<metric>`, identifier
//   https://nara.se/fhir/sid/threshold|<patient>/<metric>, lifecycleStatus
//   active, subject, description.text, and two targets with measure = the
//   metric's LOINC code and detailRange {low, high} in UCUM, told apart by the
//   extension https://nara.se/fhir/StructureDefinition/band valueCode green|yellow.
// - one CarePlan per patient, id `<patient>-measurement-schedule`, identifier
//   https://nara.se/fhir/sid/measurement-schedule|<patient>, with one
//   activity per reading kind: detail.code = the kind's LOINC code,
//   detail.scheduledTiming.repeat {timeOfDay, boundsPeriod {start, end},
//   frequency, period 1, periodUnit d}.
// Writes are PUTs to those ids: re-running updates (the server bumps
// meta.versionId and meta.lastUpdated) instead of adding copies.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const BAND_URL = 'https://nara.se/fhir/StructureDefinition/band';
const THRESHOLD_SID = 'https://nara.se/fhir/sid/threshold';
const SCHEDULE_SID = 'https://nara.se/fhir/sid/measurement-schedule';
const NARA_OBS = 'https://nara.se/fhir/CodeSystem/observation';

// Metrics (docs/adr/0004-codes-and-units.md): code and canonical UCUM unit.
const METRICS = {
  systolic: { system: LOINC, code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]' },
  diastolic: { system: LOINC, code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]' },
  pulse: { system: LOINC, code: '8867-4', display: 'Heart rate', unit: '/min' },
  'heart-rate': { system: LOINC, code: '8867-4', display: 'Heart rate', unit: '/min' },
  weight: { system: LOINC, code: '29463-7', display: 'Body weight', unit: 'kg' },
  glucose: { system: LOINC, code: '14743-9', display: 'Glucose [Moles/volume] in Capillary blood by Glucometer', unit: 'mmol/L' },
  spo2: { system: LOINC, code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%' },
  'peak-flow': { system: LOINC, code: '19935-6', display: 'Maximum expiratory gas flow Respiratory system airway by Peak flow meter', unit: 'L/min' },
  temperature: { system: LOINC, code: '8310-5', display: 'Body temperature', unit: 'Cel' },
  steps: { system: LOINC, code: '55423-8', display: 'Number of steps', unit: '{steps}' },
  cat: { system: NARA_OBS, code: 'cat-total-score', display: 'CAT total score', unit: '{score}' },
};

// Reading kinds: the code of the reading (the panel for blood pressure) and
// the metrics a threshold for that kind may set.
const KINDS = {
  bp: { system: LOINC, code: '85354-9', display: 'Blood pressure panel', metrics: ['systolic', 'diastolic', 'pulse'] },
  'heart-rate': { system: LOINC, code: '8867-4', display: 'Heart rate', metrics: ['heart-rate'] },
  weight: { system: LOINC, code: '29463-7', display: 'Body weight', metrics: ['weight'] },
  glucose: { system: LOINC, code: '14743-9', display: 'Blood glucose', metrics: ['glucose'] },
  spo2: { system: LOINC, code: '59408-5', display: 'Oxygen saturation', metrics: ['spo2', 'pulse'] },
  'peak-flow': { system: LOINC, code: '19935-6', display: 'Peak expiratory flow', metrics: ['peak-flow'] },
  temperature: { system: LOINC, code: '8310-5', display: 'Body temperature', metrics: ['temperature'] },
  steps: { system: LOINC, code: '55423-8', display: 'Steps', metrics: ['steps'] },
  cat: { system: NARA_OBS, code: 'cat-total-score', display: 'CAT (COPD Assessment Test)', metrics: ['cat'] },
};

function usage(msg) {
  if (msg) console.error(`nurse: ${msg}`);
  console.error(`usage:
  nurse thresholds PATIENT KIND --METRIC-green LO-HI --METRIC-yellow LO-HI ...
  nurse thresholds PATIENT --file thresholds.json   ({"systolic": {"green": [90, 135], "yellow": [80, 160]}, ...})
  nurse schedule   PATIENT KIND --times HH:MM[,HH:MM...] [--days N] [--start YYYY-MM-DD]
  nurse show       PATIENT
options: --fhir URL  (default $NARA_FHIR_DIRECT_URL, else the region's env file)
kinds:   ${Object.keys(KINDS).join(', ')}
metrics: ${Object.keys(METRICS).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opts = {};
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opts[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) usage(`${a} needs a value`);
        opts[a.slice(2)] = argv[i + 1];
        i += 1;
      }
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

function parseRange(text, what) {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-|\.\.|,)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(String(text));
  if (!m) usage(`${what}: expected LO-HI, e.g. 90-135, got '${text}'`);
  const low = Number(m[1]);
  const high = Number(m[2]);
  if (!(low <= high)) usage(`${what}: low ${low} is above high ${high}`);
  return [low, high];
}

function quantity(value, unit) {
  return { value, unit, system: UCUM, code: unit };
}

function coding(def) {
  return { system: def.system, code: def.code, display: def.display };
}

function goalFor(patient, metric, bands) {
  const def = METRICS[metric];
  const target = [];
  for (const band of ['green', 'yellow']) {
    if (!bands[band]) continue;
    const [low, high] = bands[band];
    target.push({
      extension: [{ url: BAND_URL, valueCode: band }],
      measure: { coding: [coding(def)], text: def.display },
      detailRange: { low: quantity(low, def.unit), high: quantity(high, def.unit) },
    });
  }
  const text = ['green', 'yellow'].filter((b) => bands[b])
    .map((b) => `${b} ${bands[b][0]}–${bands[b][1]} ${def.unit}`).join(', ');
  return {
    resourceType: 'Goal',
    id: `${patient}-threshold-${metric}`,
    identifier: [{ system: THRESHOLD_SID, value: `${patient}/${metric}` }],
    lifecycleStatus: 'active',
    category: [{ coding: [{ system: 'https://nara.se/fhir/CodeSystem/goal-category', code: 'threshold', display: 'Measurement threshold' }] }],
    description: { text: `${def.display}: ${text}` },
    subject: { reference: `Patient/${patient}` },
    startDate: new Date().toISOString().slice(0, 10),
    expressedBy: { display: 'Care team (nurse simulator)' },
    target,
  };
}

async function thresholds(base, patient, kind, opts) {
  let spec = {};
  if (opts.file) {
    const raw = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
    for (const [metric, bands] of Object.entries(raw)) {
      if (!METRICS[metric]) usage(`unknown metric '${metric}' in ${opts.file}`);
      spec[metric] = {};
      for (const band of ['green', 'yellow']) {
        if (bands[band] !== undefined) {
          const v = bands[band];
          spec[metric][band] = Array.isArray(v) ? parseRange(v.join('-'), `${metric} ${band}`)
            : parseRange(v, `${metric} ${band}`);
        }
      }
    }
  } else {
    const allowed = KINDS[kind]?.metrics;
    if (!allowed) usage(`unknown kind '${kind ?? ''}'`);
    for (const [key, value] of Object.entries(opts)) {
      if (key === 'fhir') continue;
      const m = /^(.+)-(green|yellow)$/.exec(key);
      if (!m || !METRICS[m[1]]) usage(`unknown option --${key}`);
      if (!allowed.includes(m[1])) usage(`--${key}: metric ${m[1]} is not part of ${kind} (${allowed.join(', ')})`);
      spec[m[1]] ??= {};
      spec[m[1]][m[2]] = parseRange(value, `--${key}`);
    }
  }
  if (Object.keys(spec).length === 0) usage('no thresholds given');
  for (const [metric, bands] of Object.entries(spec)) {
    const { green, yellow } = bands;
    if (green && yellow && (yellow[0] > green[0] || yellow[1] < green[1])) {
      usage(`${metric}: the yellow range ${yellow.join('-')} must contain the green range ${green.join('-')}`);
    }
    await put(base, goalFor(patient, metric, bands));
  }
}

function parseTime(t) {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) usage(`bad time '${t}' (HH:MM)`);
  return `${m[1].padStart(2, '0')}:${m[2]}:${m[3] ?? '00'}`;
}

async function schedule(base, patient, kind, opts) {
  const def = KINDS[kind];
  if (!def) usage(`unknown kind '${kind ?? ''}'`);
  if (!opts.times) usage('--times is required, e.g. --times 08:00,20:00');
  const times = opts.times.split(',').filter(Boolean).map(parseTime).sort();
  const days = Number(opts.days ?? 14);
  if (!Number.isInteger(days) || days < 1) usage('--days must be a positive whole number');
  const start = opts.start ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) usage('--start must be YYYY-MM-DD');
  const end = new Date(Date.parse(`${start}T00:00:00Z`) + (days - 1) * 86400000).toISOString().slice(0, 10);

  const id = `${patient}-measurement-schedule`;
  const current = await fhir(base, 'GET', `CarePlan/${id}`);
  const activities = (current.status === 200 ? current.json.activity || [] : [])
    .filter((a) => !(a.detail?.code?.coding || []).some((c) => c.system === def.system && c.code === def.code));
  activities.push({
    detail: {
      kind: 'ServiceRequest',
      code: { coding: [coding(def)], text: def.display },
      status: 'scheduled',
      scheduledTiming: {
        repeat: {
          boundsPeriod: { start, end },
          frequency: times.length,
          period: 1,
          periodUnit: 'd',
          timeOfDay: times,
        },
      },
      description: `Measure ${def.display.toLowerCase()} at ${times.map((t) => t.slice(0, 5)).join(' and ')}, ${start} to ${end}`,
    },
  });
  await put(base, {
    resourceType: 'CarePlan',
    id,
    identifier: [{ system: SCHEDULE_SID, value: patient }],
    status: 'active',
    intent: 'plan',
    title: 'Measurement schedule',
    subject: { reference: `Patient/${patient}` },
    period: { start: activities.map((a) => a.detail.scheduledTiming.repeat.boundsPeriod.start).sort()[0] },
    activity: activities,
  });
}

async function show(base, patient) {
  for (const type of ['Goal', 'CarePlan']) {
    const r = await fhir(base, 'GET', `${type}?subject=Patient/${encodeURIComponent(patient)}`);
    if (r.status !== 200) throw new Error(`GET ${type} answered ${r.status}: ${r.text.slice(0, 300)}`);
    for (const e of r.json.entry || []) console.log(JSON.stringify(e.resource, null, 2));
  }
}

const { pos, opts } = parseArgs(process.argv.slice(2));
const [command, patient, kind] = pos;
if (!command || command === 'help' || opts.help !== undefined) usage();
if (!patient) usage('PATIENT is missing (a Patient id, e.g. anna-1)');
const base = fhirBase(opts);
try {
  if (command === 'thresholds') await thresholds(base, patient, kind, opts);
  else if (command === 'schedule') await schedule(base, patient, kind, opts);
  else if (command === 'show') await show(base, patient);
  else usage(`unknown command '${command}'`);
} catch (e) {
  console.error(`nurse: ${e.message}`);
  process.exit(1);
}
