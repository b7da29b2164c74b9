// The care team, simulated: writes a patient's thresholds (Goal) and
// measurement schedule (CarePlan) straight to the FHIR server, without a token,
// as the region's own systems would. Run through tests/region/nurse.
//
// Usage (see tests/region/README.md):
//   nurse thresholds PATIENT KIND --METRIC-green LO-HI --METRIC-yellow LO-HI ... [--gain KG/DAYS:BAND ...]
//                    [--known-arrhythmia true]      (bp, heart-rate: an irregular pulse is only noted)
//   nurse thresholds PATIENT peak-flow --personal-best L_PER_MIN   (zones 80 % / 50 % of it)
//   nurse thresholds PATIENT --file thresholds.json
//   nurse withdraw   PATIENT KIND            (the Goal becomes cancelled: defaults apply)
//   nurse delete     PATIENT KIND|schedule   (DELETE the kind's Goal, or the CarePlan)
//   nurse thresholds ... --malformed unknown-code|inverted-range   (a Goal Nära cannot use)
//   nurse schedule   PATIENT KIND --times 08:00,20:00 [--days N] [--start YYYY-MM-DD]
//                    [--days-of-week mon,wed,fri] [--window MIN] [--time-zone Europe/Stockholm]
//                    [--text-sv "..."] [--text-en "..."]
//   nurse unschedule PATIENT KIND            (that activity becomes stopped)
//   nurse show       PATIENT
//   nurse thread       PATIENT THREAD --title T --unit U [--reply-within-sv T --reply-within-en T]
//                      [--notice-sv T --notice-en T]
//   nurse close-thread PATIENT THREAD [--reason-sv T --reason-en T] [--status completed|revoked]
//   nurse reply        PATIENT THREAD "text" [--in-reply-to ID] [--photo FILE]
//   nurse receive      PATIENT MESSAGE-CLIENT-ID   (the region's system: sets `received`)
//   nurse read         PATIENT MESSAGE-CLIENT-ID   (the unit read it: a read receipt)
//   nurse messages     PATIENT THREAD
//   nurse questionnaire Q-ID --file questionnaire.json   (PUT Questionnaire/Q-ID)
//   nurse book     PATIENT APPT-ID --start ISO --end ISO --service TEXT
//                  [--clinic-name N --address LINE --postal-code P --city C --phone TEL]
//                  [--video-url https://...] [--practitioner NAME --role ROLE]
//                  [--instruction TEXT] [--cutoff-hours H] [--questionnaire Q-ID]
//   nurse move     PATIENT APPT-ID --start ISO --end ISO   (the clinic moves the time)
//   nurse cancel-appointment PATIENT APPT-ID [--reason TEXT]
//   nurse notice   PATIENT APPT-ID   (JSON: the Appointment and the patient's answers)
//   nurse publish-article ARTICLE-ID --lang sv|en|fi|se|fit --file body.md --title T [--summary S]
//                  [--topic CODE ...] [--image IMAGE-ID=path.png:alt text ...] [--original DOC-ID]
//                  [--date ISO] [--force true]
//   nurse publish-fixtures [--dir DIR] [--force true]   (tests/region/fixtures/content/manifest.json)
//   nurse retire-article DOC-ID [--status superseded|entered-in-error|current]
//   nurse assign   PATIENT [ARTICLE-DOC-ID ...]   (replaces List/<patient>-self-care)
//   nurse content  PATIENT   (JSON: the patient's list, assigned and general articles)
// Options: --fhir URL (default $NARA_FHIR_DIRECT_URL, else $NARA_REGION_DIR/env).
//
// The format is docs/adr/0007-fhir-mapping.md §6 and §7:
// - one Goal per patient and reading kind, id `<patient>-threshold-<kind>`,
//   identifier https://nara.se/fhir/sid/threshold|<patient>/<kind>,
//   lifecycleStatus active, subject, description.coding = the kind's
//   Observation code, and per metric two targets (measure = the metric's
//   code, detailRange {low, high} in its canonical UCUM unit, extension
//   https://nara.se/fhir/StructureDefinition/band valueCode green | yellow);
//   body weight may carry weight-gain-rule extensions; peak flow may carry the
//   personal-best extension (valueQuantity L/min) instead of targets; blood
//   pressure and heart rate may carry known-arrhythmia (valueBoolean true);
// - one CarePlan per patient, id `<patient>-measurement-schedule`, identifier
//   https://nara.se/fhir/sid/measurement-schedule|<patient>, status active,
//   intent plan, one activity per reading kind: detail.kind ServiceRequest,
//   detail.code = the kind's code, detail.status scheduled,
//   detail.scheduledTiming.repeat {boundsPeriod {start, end}, timeOfDay,
//   dayOfWeek}; a kind's live activity is replaced in place (the schedule id
//   is the activity's index), a new kind is appended.
// Writes are PUTs to those ids: re-running updates (the server bumps
// meta.versionId and meta.lastUpdated) instead of adding copies.
//
// Chat is docs/adr/0009-chat-fhir-mapping.md:
// - a thread is a CommunicationRequest with the given id (PUT), status active
//   (closed: completed or revoked, statusReason, occurrencePeriod.end),
//   requester.display = the unit, reasonCode[0].text = the title, and the
//   expected-reply and emergency-notice extensions (Swedish in valueString,
//   English in the translation extension on _valueString);
// - the unit's messages are Communications basedOn the thread, sender = the
//   unit (display), recipient and subject = the patient, identifier
//   https://nara.se/fhir/sid/care-unit-message|<uuid>; photos are Binary/<uuid>
//   with securityContext = the patient;
// - `receive` sets `received` on the patient's message (delivered); `read`
//   adds a read receipt: a Communication of category read-receipt,
//   identifier https://nara.se/fhir/read-receipt|urn:uuid:<client id>
//   (conditional create: once per message), inResponseTo the message.
//
// Appointment notices are docs/adr/0010-notices-fhir-mapping.md section 1:
// - `book` PUTs Appointment/<APPT-ID>: status booked, start/end (instants),
//   minutesDuration, created, serviceType[0].text and description = --service,
//   patientInstruction, participants: the patient (actor Patient/<id>,
//   required, status needs-action), the clinic (actor #loc, a contained
//   Location with name, address.line/postalCode/city/country SE and telecom
//   phone; only when --clinic-name, --address, --postal-code, --city or
//   --phone is given) and the practitioner (actor {type PractitionerRole,
//   display --practitioner}, no reference; participant type[0].text =
//   --role), extensions video-meeting-url (valueUrl, https only) and
//   cancellation-cutoff (valueDuration in h; absent = 24 h), and
//   supportingInformation Questionnaire/<Q-ID>. Booking an existing id replaces it.
// - `move` reads the Appointment, sets the new start/end (and minutesDuration)
//   and the patient's participant status back to needs-action, and PUTs it:
//   the server bumps meta.versionId.
// - `cancel-appointment`: status cancelled, cancelationReason.text.
// - `questionnaire` PUTs a Questionnaire JSON file under the given id.
// - `notice` prints one JSON object (see README.md) with what the clinic sees:
//   the Appointment, the opened receipts (Communication?identifier=
//   https://nara.se/fhir/read-receipt|Appointment/<id>), the answers
//   (AppointmentResponse?appointment=), the reschedule requests (Task?focus=)
//   and the patient's QuestionnaireResponses with the appointment extension
//   (QuestionnaireResponse?subject=, filtered here: R4 has no search parameter
//   for that extension). All of these search parameters work on helios-hfs
//   0.2.7 (checked); hfs ignores a parameter it does not know and says so in
//   an OperationOutcome entry, which `notice` treats as an error.
//
// Self-care content is docs/adr/0011-self-care-content.md sections 1 and 2:
// - `publish-article` PUTs each image as Binary/<image id> (contentType and
//   data, no securityContext: public; skipped when the server has the same
//   bytes) and the version as DocumentReference/<article id>-<lang>:
//   identifier https://nara.se/fhir/sid/self-care-article|<article id>,
//   status current, type https://nara.se/fhir/CodeSystem/document-type#self-care-article,
//   category = one coding per --topic (https://nara.se/fhir/CodeSystem/content-topic),
//   date, description = --summary, content[0].attachment {contentType
//   text/markdown; charset=utf-8, language, title, data (base64 Markdown)},
//   content[1..].attachment {contentType, url Binary/<id>, title = alt text,
//   size, hash (base64 SHA-1)}, and relatesTo [{code transforms, target
//   DocumentReference/<--original>}] for a translation. No subject: the
//   library is public. A version the server already has with the same
//   content (all but meta and date) is not written again (--force writes it).
// - `publish-fixtures` publishes every version in fixtures/content/manifest.json
//   (translations transform the Swedish version).
// - `retire-article` sets the status (superseded: removed from the phones).
// - `assign` PUTs List/<patient>-self-care: status current, mode working,
//   code https://nara.se/fhir/CodeSystem/list#assigned-self-care, subject, date,
//   entry[].item DocumentReference/<id> (entry.date kept for items already
//   there); no ids: an empty list with emptyReason.
// - `content` prints JSON (see README.md); searches List?subject=&code= and
//   DocumentReference?type= (both work on helios-hfs 0.2.7).

import crypto from 'node:crypto';
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
const URI = 'urn:ietf:rfc:3986';
const COMM_CAT = 'https://nara.se/fhir/CodeSystem/communication-category';
const THREAD_SID = 'https://nara.se/fhir/sid/thread';
const UNIT_MESSAGE_SID = 'https://nara.se/fhir/sid/care-unit-message';
const RECEIPT_SID = 'https://nara.se/fhir/read-receipt';
const TRANSLATION = 'http://hl7.org/fhir/StructureDefinition/translation';
const NOTICE = {
  sv: 'Chatten är inte till för akuta ärenden. Ring 112 vid nödsituation, eller 1177 för sjukvårdsrådgivning.',
  en: 'The chat is not for emergencies. Call 112 in an emergency, or 1177 for medical advice.',
};
const REPLY_WITHIN = {
  sv: 'Vi svarar vanligtvis inom två vardagar.',
  en: 'We usually reply within two working days.',
};

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
                   [--known-arrhythmia true]
  nurse thresholds PATIENT peak-flow --personal-best L_PER_MIN
  nurse thresholds PATIENT --file thresholds.json
      ({"bp": {"systolic": {"green": [90, 135], "yellow": [80, 160]}, ...},
        "weight": {"gain": [{"kg": 2, "days": 3, "band": "yellow"}]}})
  nurse withdraw   PATIENT KIND
  nurse delete     PATIENT KIND|schedule   (DELETE the Goal of KIND, or the CarePlan)
  nurse thresholds ... --malformed unknown-code|inverted-range
                   (writes the Goal broken on purpose: the first target's measure gets an
                    unknown code, or its range is turned around)
  nurse schedule   PATIENT KIND --times HH:MM[,HH:MM...] [--days N] [--start YYYY-MM-DD]
                   [--days-of-week mon,wed,fri] [--window MINUTES] [--time-zone ZONE]
                   [--text-sv TEXT] [--text-en TEXT]
  nurse unschedule PATIENT KIND
  nurse show       PATIENT
  nurse thread       PATIENT THREAD --title TEXT --unit NAME [--reply-within-sv TEXT --reply-within-en TEXT]
                     [--notice-sv TEXT --notice-en TEXT]
  nurse close-thread PATIENT THREAD [--reason-sv TEXT --reason-en TEXT] [--status completed|revoked]
  nurse reply        PATIENT THREAD TEXT [--in-reply-to MESSAGE-CLIENT-ID|Communication/ID] [--photo FILE]
  nurse receive      PATIENT MESSAGE-CLIENT-ID     (the unit's system has it: sets received)
  nurse read         PATIENT MESSAGE-CLIENT-ID     (the unit read it: writes a read receipt)
  nurse messages     PATIENT THREAD
  nurse questionnaire Q-ID --file questionnaire.json
  nurse book     PATIENT APPT-ID --start ISO --end ISO --service TEXT
                 [--clinic-name NAME --address LINE --postal-code CODE --city CITY --phone TEL]
                 [--video-url https://...] [--practitioner NAME --role ROLE]
                 [--instruction TEXT] [--cutoff-hours HOURS] [--questionnaire Q-ID]
  nurse move     PATIENT APPT-ID --start ISO --end ISO
  nurse cancel-appointment PATIENT APPT-ID [--reason TEXT]
  nurse notice   PATIENT APPT-ID      (prints JSON)
  nurse publish-article ARTICLE-ID --lang sv|en|fi|se|fit --file BODY.md --title TEXT [--summary TEXT]
                 [--topic CODE ...] [--image IMAGE-ID=FILE.png:ALT ...] [--original DOC-ID] [--date ISO] [--force true]
  nurse publish-fixtures [--dir DIR] [--force true]
  nurse retire-article DOC-ID [--status superseded|entered-in-error|current]
  nurse assign   PATIENT [ARTICLE-DOC-ID ...]   (replaces the patient's list)
  nurse content  PATIENT               (prints JSON)
options: --fhir URL  (default $NARA_FHIR_DIRECT_URL, else the region's env file)
ranges:  LO-HI; an open end is allowed (80- or -160)
kinds:   ${Object.keys(KINDS).map((k) => `${k} (${KINDS[k].metrics.join(', ')})`).join('; ')}`);
  process.exit(2);
}

const REPEATED = ['gain', 'topic', 'image'];

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
      if (REPEATED.includes(key)) (opts[key] ??= []).push(value); else opts[key] = value;
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

async function fhir(base, method, rel, body, extraHeaders = {}) {
  const res = await fetch(`${base}/${rel}`, {
    method,
    headers: {
      accept: 'application/fhir+json',
      ...(body ? { 'content-type': 'application/fhir+json' } : {}),
      ...extraHeaders,
    },
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
  if (spec.personalBest !== undefined) {
    extension.push({ url: `${SD}/personal-best`, valueQuantity: quantity(spec.personalBest, 'L/min') });
  }
  if (spec.knownArrhythmia) extension.push({ url: `${SD}/known-arrhythmia`, valueBoolean: true });
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
  if (spec.personalBest !== undefined) {
    if (kind !== 'peak-flow') usage('--personal-best is for the kind peak-flow only');
    if (!(spec.personalBest > 0)) usage('--personal-best must be a positive number of L/min');
    if (Object.keys(spec.metrics).length) usage('--personal-best replaces the peak-flow ranges; give one or the other');
  }
  if (spec.knownArrhythmia && !['bp', 'heart-rate'].includes(kind)) usage('--known-arrhythmia is for bp and heart-rate');
  if (!Object.keys(spec.metrics).length && !spec.gain.length && spec.personalBest === undefined && !spec.knownArrhythmia) {
    usage(`no thresholds given for ${kind}`);
  }
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
    if (opts['personal-best'] !== undefined) spec.personalBest = Number(opts['personal-best']);
    if (opts['known-arrhythmia'] !== undefined) {
      if (!['true', 'false'].includes(opts['known-arrhythmia'])) usage('--known-arrhythmia takes true or false');
      spec.knownArrhythmia = opts['known-arrhythmia'] === 'true';
    }
    for (const [key, value] of Object.entries(opts)) {
      if (['fhir', 'gain', 'malformed', 'personal-best', 'known-arrhythmia'].includes(key)) continue;
      const m = /^(.+)-(green|yellow)$/.exec(key);
      if (!m || !METRICS[m[1]]) usage(`unknown option --${key}`);
      spec.metrics[m[1]] ??= {};
      spec.metrics[m[1]][m[2]] = parseRange(value, `--${key}`);
    }
    specs[kind] = spec;
  }
  if (!Object.keys(specs).length) usage('no thresholds given');
  for (const [k, spec] of Object.entries(specs)) checkSpec(k, spec);
  for (const [k, spec] of Object.entries(specs)) {
    const goal = goalFor(patient, k, spec);
    if (opts.malformed !== undefined) malform(goal, opts.malformed);
    await put(base, goal);
  }
}

// A Goal that Nära must refuse (and report), for the "cannot be used" stories:
// an unknown LOINC code on the first target's measure, or its range turned around.
function malform(goal, how) {
  const first = goal.target?.[0];
  if (!first) usage('--malformed needs a kind with at least one metric range');
  if (how === 'unknown-code') {
    first.measure = { coding: [{ system: 'http://loinc.org', code: '99999-9', display: 'Unknown' }] };
  } else if (how === 'inverted-range') {
    const { low, high } = first.detailRange;
    if (!low || !high) usage('--malformed inverted-range needs a closed first range (LO-HI)');
    first.detailRange = { low: high, high: low };
  } else usage(`--malformed is unknown-code or inverted-range, not '${how}'`);
}

// DELETE the kind's Goal, or (KIND = schedule) the patient's CarePlan: the
// resource is gone from searches; hfs keeps its history.
async function deleteResource(base, patient, what) {
  let rel;
  if (what === 'schedule') rel = `CarePlan/${patient}-measurement-schedule`;
  else if (KINDS[what]) rel = `Goal/${patient}-threshold-${what}`;
  else usage(`delete takes a kind or 'schedule', not '${what ?? ''}'`);
  const r = await fhir(base, 'DELETE', rel);
  if (r.status !== 200 && r.status !== 204 && r.status !== 404 && r.status !== 410) {
    throw new Error(`DELETE ${rel} answered ${r.status}: ${r.text.slice(0, 300)}`);
  }
  console.log(`deleted ${rel} (${r.status})`);
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


// ---------------------------------------------------------------- chat (ADR 0009)

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkId(id, what) {
  if (!id || !FHIR_ID.test(id)) usage(`${what} must be a FHIR id (1-64 of A-Z a-z 0-9 - .), got '${id ?? ''}'`);
}

// A string with its English translation (the standard translation extension on _KEY).
function localized(key, sv, en) {
  return {
    [key]: sv,
    ...(en && en !== sv ? {
      [`_${key}`]: {
        extension: [{ url: TRANSLATION, extension: [{ url: 'lang', valueCode: 'en' }, { url: 'content', valueString: en }] }],
      },
    } : {}),
  };
}

const nowInstant = () => new Date().toISOString();

async function getThread(base, patient, id) {
  checkId(id, 'THREAD');
  const t = await get(base, `CommunicationRequest/${id}`);
  if (!t) return undefined;
  if (t.subject?.reference !== `Patient/${patient}`) {
    throw new Error(`CommunicationRequest/${id} is not a thread of Patient/${patient}`);
  }
  return t;
}

async function thread(base, patient, id, opts) {
  const current = await getThread(base, patient, id);
  if (!current && (!opts.title || !opts.unit)) usage('a new thread needs --title and --unit');
  const now = nowInstant();
  const replySv = opts['reply-within-sv'] ?? (opts['reply-within-en'] ? undefined : REPLY_WITHIN.sv);
  const replyEn = opts['reply-within-en'] ?? (opts['reply-within-sv'] ? undefined : REPLY_WITHIN.en);
  const noticeSv = opts['notice-sv'] ?? NOTICE.sv;
  const noticeEn = opts['notice-en'] ?? (opts['notice-sv'] ? undefined : NOTICE.en);
  const unit = opts.unit ?? current.requester?.display;
  const title = opts.title ?? current.reasonCode?.[0]?.text ?? unit;
  const extension = [];
  if (replySv || replyEn) {
    extension.push({ url: `${SD}/expected-reply`, ...localized('valueString', replySv ?? replyEn, replyEn) });
  }
  extension.push({ url: `${SD}/emergency-notice`, ...localized('valueString', noticeSv, noticeEn) });
  await put(base, {
    resourceType: 'CommunicationRequest',
    id,
    extension,
    identifier: [{ system: THREAD_SID, value: id }],
    status: 'active',
    category: [{ coding: [{ system: COMM_CAT, code: 'conversation' }] }],
    subject: { reference: `Patient/${patient}` },
    occurrencePeriod: { start: current?.occurrencePeriod?.start ?? now },
    authoredOn: current?.authoredOn ?? now,
    requester: { display: unit },
    recipient: [{ reference: `Patient/${patient}` }],
    reasonCode: [{ text: title }],
  });
}

async function closeThread(base, patient, id, opts) {
  const t = await getThread(base, patient, id);
  if (!t) throw new Error(`no CommunicationRequest/${id}`);
  const status = opts.status ?? 'completed';
  if (!['completed', 'revoked'].includes(status)) usage('--status is completed or revoked');
  delete t.meta;
  t.status = status;
  t.occurrencePeriod = { ...(t.occurrencePeriod || {}), end: nowInstant() };
  const sv = opts['reason-sv'] ?? opts['reason-en'];
  if (sv) t.statusReason = localized('text', sv, opts['reason-en']);
  else delete t.statusReason;
  await put(base, t);
}

function imageType(buf) {
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (buf.subarray(4, 8).toString('latin1') === 'ftyp'
    && ['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(buf.subarray(8, 12).toString('latin1'))) return 'image/heic';
  return undefined;
}

// The patient's message with client id `clientId` (exactly one).
async function findMessage(base, patient, clientId) {
  const id = String(clientId || '').replace(/^urn:uuid:/, '').toLowerCase();
  if (!UUID.test(id)) usage(`MESSAGE-CLIENT-ID must be the message's client UUID, got '${clientId ?? ''}'`);
  const q = `identifier=${encodeURIComponent(`${URI}|urn:uuid:${id}`)}&subject=${encodeURIComponent(`Patient/${patient}`)}`;
  const bundle = await get(base, `Communication?${q}`);
  const found = (bundle?.entry || []).map((e) => e.resource).filter((r) => r?.resourceType === 'Communication');
  if (found.length !== 1) throw new Error(`${found.length} Communications of Patient/${patient} have the client id ${id}`);
  return { message: found[0], id };
}

async function reply(base, patient, threadId, text, opts) {
  const t = await getThread(base, patient, threadId);
  if (!t) throw new Error(`no CommunicationRequest/${threadId}`);
  if (t.status !== 'active' && t.status !== 'on-hold') throw new Error(`the thread is ${t.status}: the unit reopens it with 'nurse thread' first`);
  if (!text && !opts.photo) usage('reply needs TEXT or --photo FILE');
  const payload = [];
  if (text) payload.push({ contentString: text });
  if (opts.photo) {
    const bytes = fs.readFileSync(opts.photo);
    const contentType = imageType(bytes);
    if (!contentType) usage(`${opts.photo} is not a JPEG, PNG or HEIC image`);
    const binaryId = crypto.randomUUID();
    await put(base, {
      resourceType: 'Binary',
      id: binaryId,
      contentType,
      securityContext: { reference: `Patient/${patient}` },
      data: bytes.toString('base64'),
    });
    payload.push({
      contentAttachment: {
        extension: [{ url: `${SD}/attachment-sha256`, valueBase64Binary: crypto.createHash('sha256').update(bytes).digest('base64') }],
        contentType,
        url: `Binary/${binaryId}`,
        size: bytes.length,
      },
    });
  }
  let inResponseTo;
  if (opts['in-reply-to']) {
    const r = String(opts['in-reply-to']);
    const uuid = r.replace(/^urn:uuid:/, '');
    if (UUID.test(uuid)) inResponseTo = [{ identifier: { system: URI, value: `urn:uuid:${uuid.toLowerCase()}` } }];
    else if (/^Communication\/[A-Za-z0-9\-.]{1,64}$/.test(r)) inResponseTo = [{ reference: r }];
    else usage('--in-reply-to is a message client id (UUID) or Communication/ID');
  }
  const ident = { system: UNIT_MESSAGE_SID, value: crypto.randomUUID() };
  const r = await fhir(base, 'POST', 'Communication', {
    resourceType: 'Communication',
    identifier: [ident],
    basedOn: [{ reference: `CommunicationRequest/${threadId}` }],
    ...(inResponseTo ? { inResponseTo } : {}),
    status: 'completed',
    category: [{ coding: [{ system: COMM_CAT, code: 'message' }] }],
    subject: { reference: `Patient/${patient}` },
    sent: nowInstant(),
    recipient: [{ reference: `Patient/${patient}` }],
    sender: { ...(t.requester?.reference ? { reference: t.requester.reference } : {}), display: t.requester?.display },
    payload,
  }, { 'if-none-exist': `identifier=${ident.system}|${ident.value}` });
  if (r.status !== 201 && r.status !== 200) throw new Error(`POST Communication answered ${r.status}: ${r.text.slice(0, 500)}`);
  console.log(`created Communication/${r.json?.id} (reply in ${threadId})`);
}

async function receive(base, patient, clientId, quiet = false) {
  const { message } = await findMessage(base, patient, clientId);
  if (message.received) {
    if (!quiet) console.log(`Communication/${message.id} was already received at ${message.received}`);
    return message;
  }
  delete message.meta;
  message.received = nowInstant();
  return put(base, message);
}

async function read(base, patient, clientId) {
  const message = await receive(base, patient, clientId, true);
  const { id } = await findMessage(base, patient, clientId);
  const ident = { system: RECEIPT_SID, value: `urn:uuid:${id}` };
  const unit = (await getThread(base, patient, (message.basedOn?.[0]?.reference || '').split('/')[1] || '-').catch(() => undefined))?.requester;
  const r = await fhir(base, 'POST', 'Communication', {
    resourceType: 'Communication',
    identifier: [ident],
    basedOn: message.basedOn,
    inResponseTo: [{ reference: `Communication/${message.id}`, identifier: { system: URI, value: `urn:uuid:${id}` } }],
    status: 'completed',
    category: [{ coding: [{ system: COMM_CAT, code: 'read-receipt' }] }],
    subject: { reference: `Patient/${patient}` },
    sent: nowInstant(),
    recipient: [{ reference: `Patient/${patient}` }],
    sender: { ...(unit?.reference ? { reference: unit.reference } : {}), display: unit?.display ?? 'Vårdenheten' },
  }, { 'if-none-exist': `identifier=${ident.system}|${ident.value}` });
  if (r.status === 201) console.log(`created Communication/${r.json?.id} (read receipt for ${id})`);
  else if (r.status === 200) console.log(`Communication/${r.json?.id}: ${id} was already read`);
  else throw new Error(`POST Communication answered ${r.status}: ${r.text.slice(0, 500)}`);
}

async function messages(base, patient, threadId) {
  const t = await getThread(base, patient, threadId);
  if (t) {
    console.log(`thread ${threadId}: ${t.reasonCode?.[0]?.text ?? ''} (${t.requester?.display ?? '?'}), ${t.status}`
      + `${t.statusReason?.text ? ` - ${t.statusReason.text}` : ''}`);
  } else console.log(`no CommunicationRequest/${threadId}`);
  const all = [];
  let next = `Communication?based-on=${encodeURIComponent(`CommunicationRequest/${threadId}`)}&subject=${encodeURIComponent(`Patient/${patient}`)}&_count=100`;
  while (next) {
    const bundle = await get(base, next);
    for (const e of bundle?.entry || []) if (e.resource?.resourceType === 'Communication') all.push(e.resource);
    const link = (bundle?.link || []).find((l) => l.relation === 'next')?.url;
    next = link ? link.slice(link.indexOf(base) === 0 ? base.length + 1 : 0) : undefined;
    if (next && /^https?:/.test(next)) next = undefined;
  }
  const isReceipt = (c) => (c.category || []).some((cc) => (cc.coding || []).some((x) => x.system === COMM_CAT && x.code === 'read-receipt'));
  const readKeys = new Map();
  for (const r of all.filter(isReceipt)) {
    for (const x of r.inResponseTo || []) {
      if (x.identifier?.value) readKeys.set(x.identifier.value, r.sent);
      if (x.reference) readKeys.set(x.reference, r.sent);
    }
  }
  const msgs = all.filter((c) => !isReceipt(c)).sort((a, b) => String(a.sent).localeCompare(String(b.sent)));
  for (const m of msgs) {
    const fromPatient = m.sender?.reference === `Patient/${patient}`;
    const clientId = (m.identifier || []).find((i) => i.system === URI)?.value;
    const readAt = readKeys.get(clientId) ?? readKeys.get(`Communication/${m.id}`);
    const state = readAt ? `read ${readAt}` : m.received ? `delivered ${m.received}` : 'sent';
    const text = (m.payload || []).filter((p) => p.contentString).map((p) => p.contentString).join(' ');
    const photos = (m.payload || []).filter((p) => p.contentAttachment).length;
    const who = fromPatient ? 'patient' : (m.sender?.display ?? 'unit');
    console.log(`${m.sent}  ${who}  [${state}]  Communication/${m.id}${clientId ? ` (${clientId})` : ''}`
      + `${m.inResponseTo ? `  re: ${m.inResponseTo.map((x) => x.identifier?.value ?? x.reference).join(', ')}` : ''}`
      + `\n    ${text}${photos ? ` [${photos} photo${photos > 1 ? 's' : ''}]` : ''}`);
  }
  if (!msgs.length) console.log('(no messages)');
}

// ---------------------------------------------------------------- notices (ADR 0010)

const VIDEO_URL = `${SD}/video-meeting-url`;
const CUTOFF_URL = `${SD}/cancellation-cutoff`;
const APPOINTMENT_EXT = `${SD}/appointment`;
const INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

// An ISO instant with a time zone; seconds are added when missing.
function instant(value, what) {
  const m = INSTANT.exec(String(value ?? '').trim());
  if (!m || Number.isNaN(Date.parse(m[0]))) {
    usage(`${what} must be an instant with a time zone, e.g. 2026-12-01T09:00:00+01:00, got '${value ?? ''}'`);
  }
  return `${m[1]}${m[2] ?? ':00'}${m[3]}`;
}

function startEnd(opts) {
  if (!opts.start || !opts.end) usage('--start and --end are required');
  const start = instant(opts.start, '--start');
  const end = instant(opts.end, '--end');
  if (Date.parse(end) <= Date.parse(start)) usage('--end must be after --start');
  return { start, end };
}

const isPatientParticipant = (patient) => (p) => p?.actor?.reference === `Patient/${patient}`;

async function getAppointment(base, patient, id) {
  checkId(id, 'APPT-ID');
  const a = await get(base, `Appointment/${id}`);
  if (!a) return undefined;
  if (!(a.participant || []).some(isPatientParticipant(patient))) {
    throw new Error(`Appointment/${id} is not an appointment of Patient/${patient}`);
  }
  return a;
}

async function questionnaire(base, id, opts) {
  checkId(id, 'Q-ID');
  if (!opts.file) usage('questionnaire needs --file questionnaire.json');
  let q;
  try {
    q = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
  } catch (e) {
    usage(`cannot read ${opts.file}: ${e.message}`);
  }
  if (q?.resourceType !== 'Questionnaire') usage(`${opts.file} is not a FHIR Questionnaire`);
  delete q.meta;
  q.id = id;
  await put(base, q);
}

async function book(base, patient, id, opts) {
  checkId(id, 'APPT-ID');
  const { start, end } = startEnd(opts);
  if (!opts.service) usage('book needs --service TEXT (what the visit is, e.g. Diabetesmottagning)');
  const extension = [];
  if (opts['video-url'] !== undefined) {
    let u;
    try { u = new URL(opts['video-url']); } catch { u = undefined; }
    if (!u || u.protocol !== 'https:') usage(`--video-url must be an https URL, got '${opts['video-url']}'`);
    extension.push({ url: VIDEO_URL, valueUrl: opts['video-url'] });
  }
  if (opts['cutoff-hours'] !== undefined) {
    const h = Number(opts['cutoff-hours']);
    if (!Number.isInteger(h) || h < 0) usage('--cutoff-hours is whole hours, e.g. 24 or 72');
    extension.push({ url: CUTOFF_URL, valueDuration: { value: h, unit: 'h', system: UCUM, code: 'h' } });
  }
  const contained = [];
  const participant = [{
    actor: { reference: `Patient/${patient}`, type: 'Patient' },
    required: 'required',
    status: 'needs-action',
  }];
  const hasLocation = ['clinic-name', 'address', 'postal-code', 'city', 'phone'].some((k) => opts[k] !== undefined);
  if (hasLocation) {
    const name = opts['clinic-name'] ?? opts.service;
    const address = {
      ...(opts.address ? { line: [opts.address] } : {}),
      ...(opts.city ? { city: opts.city } : {}),
      ...(opts['postal-code'] ? { postalCode: String(opts['postal-code']) } : {}),
    };
    contained.push({
      resourceType: 'Location',
      id: 'loc',
      name,
      ...(opts.phone ? { telecom: [{ system: 'phone', value: opts.phone, use: 'work' }] } : {}),
      ...(Object.keys(address).length ? { address: { use: 'work', ...address, country: 'SE' } } : {}),
    });
    participant.push({ actor: { reference: '#loc', type: 'Location', display: name }, required: 'required', status: 'accepted' });
  }
  if (opts.practitioner !== undefined || opts.role !== undefined) {
    // A display-only reference: the booking system's PractitionerRole ids
    // mean nothing to the patient (core/src/sync/fhir/appointment.rs takes
    // a display-only actor or a PractitionerRole/... reference; any #ref is
    // taken for the Location, so the role is not contained).
    const display = opts.practitioner ?? opts.role;
    participant.push({
      ...(opts.role ? { type: [{ text: opts.role }] } : {}),
      actor: { type: 'PractitionerRole', display },
      required: 'required',
      status: 'accepted',
    });
  }
  let supportingInformation;
  if (opts.questionnaire !== undefined) {
    checkId(opts.questionnaire, '--questionnaire');
    supportingInformation = [{ reference: `Questionnaire/${opts.questionnaire}`, type: 'Questionnaire' }];
  }
  await put(base, {
    resourceType: 'Appointment',
    id,
    ...(contained.length ? { contained } : {}),
    ...(extension.length ? { extension } : {}),
    status: 'booked',
    serviceType: [{ text: opts.service }],
    description: opts.service,
    start,
    end,
    minutesDuration: Math.round((Date.parse(end) - Date.parse(start)) / 60000),
    created: nowInstant(),
    ...(opts.instruction ? { patientInstruction: opts.instruction } : {}),
    ...(supportingInformation ? { supportingInformation } : {}),
    participant,
  });
}

async function move(base, patient, id, opts) {
  const { start, end } = startEnd(opts);
  const a = await getAppointment(base, patient, id);
  if (!a) throw new Error(`no Appointment/${id}`);
  delete a.meta;
  a.start = start;
  a.end = end;
  if (a.minutesDuration !== undefined) a.minutesDuration = Math.round((Date.parse(end) - Date.parse(start)) / 60000);
  // A moved visit is to be confirmed again.
  for (const p of a.participant.filter(isPatientParticipant(patient))) p.status = 'needs-action';
  await put(base, a);
}

async function cancelAppointment(base, patient, id, opts) {
  const a = await getAppointment(base, patient, id);
  if (!a) throw new Error(`no Appointment/${id}`);
  delete a.meta;
  a.status = 'cancelled';
  a.cancelationReason = { text: opts.reason ?? 'Mottagningen har ställt in besöket.' };
  await put(base, a);
}

// All resources of a search, following next links on the same server. A
// search parameter the server ignores (an OperationOutcome entry) is an error:
// the counts would be wrong.
async function searchAll(base, rel) {
  const out = [];
  let next = rel;
  for (let page = 0; next && page < 100; page += 1) {
    const bundle = await get(base, next);
    for (const e of bundle?.entry || []) {
      if (e.search?.mode === 'outcome' || e.resource?.resourceType === 'OperationOutcome') {
        const text = (e.resource?.issue || []).map((i) => i.details?.text ?? i.diagnostics).join('; ');
        throw new Error(`${rel.split('?')[0]} search: ${text}`);
      }
      if (e.resource) out.push(e.resource);
    }
    const link = (bundle?.link || []).find((l) => l.relation === 'next')?.url;
    next = link && link.startsWith(`${base}/`) ? link.slice(base.length + 1) : undefined;
  }
  const when = (r) => r.meta?.lastUpdated ?? '';
  return out.sort((x, y) => when(x).localeCompare(when(y)) || String(x.id).localeCompare(String(y.id)));
}

async function notice(base, patient, id) {
  checkId(id, 'APPT-ID');
  const ref = `Appointment/${id}`;
  const q = encodeURIComponent;
  const a = await get(base, ref);
  const receipts = await searchAll(base, `Communication?identifier=${q(`${RECEIPT_SID}|${ref}`)}&_count=100`);
  const responses = await searchAll(base, `AppointmentResponse?appointment=${q(ref)}&_count=100`);
  const tasks = await searchAll(base, `Task?focus=${q(ref)}&_count=100`);
  const qrs = (await searchAll(base, `QuestionnaireResponse?subject=${q(`Patient/${patient}`)}&_count=100`))
    .filter((r) => (r.extension || []).some((e) => e.url === APPOINTMENT_EXT && e.valueReference?.reference === ref));
  const ids = (list) => list.map((r) => r.id);
  console.log(JSON.stringify({
    patient,
    appointment: a ? {
      id: a.id,
      status: a.status,
      start: a.start ?? null,
      end: a.end ?? null,
      versionId: a.meta?.versionId ?? null,
      lastUpdated: a.meta?.lastUpdated ?? null,
      patientParticipant: (a.participant || []).some(isPatientParticipant(patient)),
      cancelationReason: a.cancelationReason?.text ?? null,
    } : null,
    receipts: { count: receipts.length, ids: ids(receipts), sent: receipts.map((r) => r.sent ?? null) },
    responses: {
      count: responses.length,
      ids: ids(responses),
      participantStatus: responses.map((r) => r.participantStatus ?? null),
      comments: responses.map((r) => r.comment ?? null),
    },
    tasks: {
      count: tasks.length,
      ids: ids(tasks),
      statuses: tasks.map((t) => t.status ?? null),
      descriptions: tasks.map((t) => t.description ?? null),
      windows: tasks.map((t) => (t.input || [])
        .filter((i) => i.valuePeriod)
        .map((i) => ({ start: i.valuePeriod.start ?? null, end: i.valuePeriod.end ?? null }))),
    },
    questionnaireResponses: {
      count: qrs.length,
      ids: ids(qrs),
      questionnaires: qrs.map((r) => r.questionnaire ?? null),
      statuses: qrs.map((r) => r.status ?? null),
    },
  }, null, 2));
}

// ---------------------------------------------------------------- self-care content (ADR 0011)

const ARTICLE_SID = 'https://nara.se/fhir/sid/self-care-article';
const DOC_TYPE = 'https://nara.se/fhir/CodeSystem/document-type';
const TOPIC_CS = 'https://nara.se/fhir/CodeSystem/content-topic';
const LIST_CS = 'https://nara.se/fhir/CodeSystem/list';
const CONTENT_LANGS = ['sv', 'en', 'fi', 'se', 'fit'];
const MARKDOWN = 'text/markdown; charset=utf-8';
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'content');
const TYPE_QUERY = `type=${encodeURIComponent(`${DOC_TYPE}|self-care-article`)}`;
const LIST_QUERY = `code=${encodeURIComponent(`${LIST_CS}|assigned-self-care`)}`;
const sha1 = (bytes) => crypto.createHash('sha1').update(bytes).digest('base64');
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// An image for an article: its Binary is public (no securityContext). It is
// written only when the server does not have these bytes already, so an
// unchanged image keeps its version.
async function publishImage(base, id, file) {
  checkId(id, 'IMAGE-ID');
  const bytes = fs.readFileSync(file);
  const contentType = imageType(bytes) ?? (bytes.subarray(0, 4).toString('latin1') === 'RIFF'
    && bytes.subarray(8, 12).toString('latin1') === 'WEBP' ? 'image/webp' : undefined);
  if (!contentType || contentType === 'image/heic') usage(`${file} is not a PNG, JPEG or WebP image`);
  const data = bytes.toString('base64');
  const current = await get(base, `Binary/${id}`);
  if (current && current.data === data && current.contentType === contentType && !current.securityContext) {
    console.log(`unchanged Binary/${id} (version ${current.meta?.versionId ?? '?'})`);
  } else {
    await put(base, { resourceType: 'Binary', id, contentType, data });
  }
  return { contentType, url: `Binary/${id}`, size: bytes.length, hash: sha1(bytes) };
}

// One language version of an article: DocumentReference/<article>-<lang>.
// images: [{id, file, alt}]. Unless force, a version whose content is the
// same as the server's (all but meta and date) is left alone.
async function publishVersion(base, article, v, force = false) {
  checkId(article, 'ARTICLE-ID');
  if (!CONTENT_LANGS.includes(v.lang)) usage(`--lang is one of ${CONTENT_LANGS.join(', ')}, got '${v.lang ?? ''}'`);
  const docId = `${article}-${v.lang}`;
  checkId(docId, 'the DocumentReference id (ARTICLE-ID-LANG)');
  if (!v.title) usage('--title is required');
  const body = fs.readFileSync(v.file);
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) usage(`${v.file} is not UTF-8`);
  for (const m of text.matchAll(/nara:image\/([A-Za-z0-9\-.]{1,64})/g)) {
    if (!(v.images || []).some((i) => i.id === m[1])) console.error(`nurse: warning: ${v.file} refers to nara:image/${m[1]}, which is not given`);
  }
  const images = [];
  for (const img of v.images || []) images.push({ ...(await publishImage(base, img.id, img.file)), title: img.alt || undefined });
  if (v.original) checkId(v.original, '--original');
  const doc = {
    resourceType: 'DocumentReference',
    id: docId,
    identifier: [{ system: ARTICLE_SID, value: article }],
    status: 'current',
    type: { coding: [{ system: DOC_TYPE, code: 'self-care-article' }] },
    ...(v.topics?.length ? { category: v.topics.map((code) => ({ coding: [{ system: TOPIC_CS, code }] })) } : {}),
    date: v.date ?? nowInstant(),
    description: v.summary || undefined,
    ...(v.original ? { relatesTo: [{ code: 'transforms', target: { reference: `DocumentReference/${v.original}` } }] } : {}),
    content: [
      { attachment: { contentType: MARKDOWN, language: v.lang, title: v.title, data: body.toString('base64') } },
      ...images.map((attachment) => ({ attachment })),
    ],
  };
  const clean = JSON.parse(JSON.stringify(doc));
  const current = await get(base, `DocumentReference/${docId}`);
  if (current && !force) {
    const strip = (d) => { const c = { ...d }; delete c.meta; delete c.date; delete c.text; return c; };
    if (sameJson(strip(current), strip(clean))) {
      console.log(`unchanged DocumentReference/${docId} (version ${current.meta?.versionId ?? '?'})`);
      return current;
    }
  }
  return put(base, clean);
}

function parseImages(specs) {
  return (specs || []).map((s) => {
    const m = /^([A-Za-z0-9\-.]{1,64})=([^:]+)(?::(.*))?$/.exec(s);
    if (!m) usage(`--image is IMAGE-ID=path.png:alt text, got '${s}'`);
    return { id: m[1], file: m[2], alt: m[3] };
  });
}

async function publishArticle(base, article, opts) {
  if (!opts.file) usage('publish-article needs --file body.md');
  await publishVersion(base, article, {
    lang: opts.lang ?? 'sv',
    file: opts.file,
    title: opts.title,
    summary: opts.summary,
    topics: opts.topic,
    images: parseImages(opts.image),
    original: opts.original,
    date: opts.date,
  }, opts.force !== undefined && opts.force !== 'false');
}

// Every version in fixtures/content/manifest.json; a translation relates to
// the Swedish version (transforms) when there is one.
async function publishFixtures(base, opts) {
  const dir = opts.dir ?? FIXTURES;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  for (const a of manifest.articles) {
    const hasSv = a.versions.some((v) => v.lang === 'sv');
    for (const v of a.versions) {
      await publishVersion(base, a.id, {
        ...v,
        file: path.join(dir, v.file),
        topics: a.topics,
        date: v.date ?? a.date ?? manifest.date,
        images: (v.images || []).map((i) => ({ ...i, file: path.join(dir, manifest.images[i.id] ?? usage(`unknown image ${i.id}`)) })),
        original: v.lang !== 'sv' && hasSv ? `${a.id}-sv` : undefined,
      }, opts.force !== undefined && opts.force !== 'false');
    }
  }
}

async function retireArticle(base, docId, opts) {
  checkId(docId, 'DOC-ID');
  const status = opts.status ?? 'superseded';
  if (!['superseded', 'entered-in-error', 'current'].includes(status)) usage('--status is superseded, entered-in-error or current');
  const doc = await get(base, `DocumentReference/${docId}`);
  if (!doc) throw new Error(`no DocumentReference/${docId}`);
  delete doc.meta;
  doc.status = status;
  await put(base, doc);
}

const listId = (patient) => `${patient}-self-care`;

async function assign(base, patient, docIds) {
  for (const id of docIds) {
    checkId(id, 'ARTICLE-DOC-ID');
    const doc = await get(base, `DocumentReference/${id}`);
    if (!doc) throw new Error(`no DocumentReference/${id}`);
    if (!(doc.type?.coding || []).some((c) => c.system === DOC_TYPE && c.code === 'self-care-article')) {
      throw new Error(`DocumentReference/${id} is not a self-care article`);
    }
    if (doc.status !== 'current') console.error(`nurse: warning: DocumentReference/${id} is ${doc.status}`);
  }
  const current = await get(base, `List/${listId(patient)}`);
  const added = new Map((current?.entry || []).map((e) => [e.item?.reference, e.date]));
  const now = nowInstant();
  const ids = [...new Set(docIds)];
  await put(base, {
    resourceType: 'List',
    id: listId(patient),
    status: 'current',
    mode: 'working',
    title: 'Egenvård från din mottagning',
    code: { coding: [{ system: LIST_CS, code: 'assigned-self-care' }] },
    subject: { reference: `Patient/${patient}` },
    date: now,
    ...(ids.length ? {
      entry: ids.map((id) => ({ date: added.get(`DocumentReference/${id}`) ?? now, item: { reference: `DocumentReference/${id}` } })),
    } : { emptyReason: { text: 'Inga artiklar tilldelade' } }),
  });
}

function docSummary(d) {
  const body = d.content?.[0]?.attachment || {};
  return {
    id: d.id,
    article: (d.identifier || []).find((i) => i.system === ARTICLE_SID)?.value ?? null,
    status: d.status ?? null,
    versionId: d.meta?.versionId ?? null,
    lastUpdated: d.meta?.lastUpdated ?? null,
    language: body.language ?? null,
    title: body.title ?? null,
    topics: (d.category || []).flatMap((c) => (c.coding || []).filter((x) => x.system === TOPIC_CS).map((x) => x.code)),
    original: (d.relatesTo || []).find((r) => r.code === 'transforms')?.target?.reference ?? null,
    subject: d.subject?.reference ?? null,
    images: (d.content || []).slice(1).map((c) => ({ url: c.attachment?.url ?? null, size: c.attachment?.size ?? null, hash: c.attachment?.hash ?? null })),
  };
}

// JSON on stdout: the patient's list, the assigned DocumentReferences, the
// general library (every self-care DocumentReference without a subject, any
// status) and, per article, the languages of its current versions.
async function content(base, patient) {
  const lists = await searchAll(base, `List?subject=${encodeURIComponent(`Patient/${patient}`)}&${LIST_QUERY}&_count=100`);
  const list = lists.find((l) => l.id === listId(patient)) ?? lists[0];
  const docs = await searchAll(base, `DocumentReference?${TYPE_QUERY}&_count=100`);
  const general = docs.filter((d) => !d.subject).map(docSummary);
  const assigned = [];
  for (const e of list?.entry || []) {
    const ref = e.item?.reference ?? '';
    const id = ref.startsWith('DocumentReference/') ? ref.slice('DocumentReference/'.length) : undefined;
    const d = id && (docs.find((x) => x.id === id) ?? await get(base, `DocumentReference/${id}`));
    assigned.push(d ? docSummary(d) : { id: id ?? ref, missing: true });
  }
  const articles = {};
  for (const d of general) {
    if (!d.article) continue;
    const a = (articles[d.article] ??= { languages: [], ids: [] });
    a.ids.push(d.id);
    if (d.status === 'current') a.languages.push(d.language);
  }
  const order = (l) => (CONTENT_LANGS.includes(l) ? CONTENT_LANGS.indexOf(l) : CONTENT_LANGS.length);
  for (const a of Object.values(articles)) a.languages.sort((x, y) => order(x) - order(y) || String(x).localeCompare(String(y)));
  console.log(JSON.stringify({
    patient,
    list: list ? {
      id: list.id,
      status: list.status ?? null,
      versionId: list.meta?.versionId ?? null,
      lastUpdated: list.meta?.lastUpdated ?? null,
      entries: (list.entry || []).map((e) => e.item?.reference ?? null),
    } : null,
    assigned,
    general,
    articles,
  }, null, 2));
}

const { pos, opts } = parseArgs(process.argv.slice(2));
const [command, patient, kind] = pos;
if (!command || command === 'help') usage();
if (['questionnaire', 'publish-article', 'publish-fixtures', 'retire-article'].includes(command)) {
  try {
    if (command === 'questionnaire') {
      checkId(patient, 'Q-ID');
      if (!opts.file) usage('questionnaire needs --file questionnaire.json');
      await questionnaire(fhirBase(opts), patient, opts);
    } else if (command === 'publish-article') await publishArticle(fhirBase(opts), patient, opts);
    else if (command === 'publish-fixtures') await publishFixtures(fhirBase(opts), opts);
    else await retireArticle(fhirBase(opts), patient, opts);
  } catch (e) {
    console.error(`nurse: ${e.message}`);
    process.exit(1);
  }
  process.exit(0);
}
if (!patient) usage('PATIENT is missing (a Patient id, e.g. anna-1)');
const base = fhirBase(opts);
try {
  if (command === 'thresholds') await thresholds(base, patient, kind, opts);
  else if (command === 'withdraw') await withdraw(base, patient, kind);
  else if (command === 'delete') await deleteResource(base, patient, kind);
  else if (command === 'schedule') await schedule(base, patient, kind, opts);
  else if (command === 'unschedule') await unschedule(base, patient, kind);
  else if (command === 'show') await show(base, patient);
  else if (command === 'thread') await thread(base, patient, kind, opts);
  else if (command === 'close-thread') await closeThread(base, patient, kind, opts);
  else if (command === 'reply') await reply(base, patient, kind, pos[3], opts);
  else if (command === 'receive') await receive(base, patient, kind);
  else if (command === 'read') await read(base, patient, kind);
  else if (command === 'messages') await messages(base, patient, kind);
  else if (command === 'book') await book(base, patient, kind, opts);
  else if (command === 'move') await move(base, patient, kind, opts);
  else if (command === 'cancel-appointment') await cancelAppointment(base, patient, kind, opts);
  else if (command === 'notice') await notice(base, patient, kind);
  else if (command === 'assign') await assign(base, patient, pos.slice(2));
  else if (command === 'content') await content(base, patient);
  else usage(`unknown command '${command}'`);
} catch (e) {
  console.error(`nurse: ${e.message}`);
  process.exit(1);
}
