// The test region's login and front, in one Node process.
//
// 1. An OpenID/OAuth 2 authorization server (oidc-provider 9) configured as a
//    region's patient login: one public native client `nara-app`, authorization
//    code with PKCE S256 required, refresh tokens, short access tokens, SMART
//    scopes, `patient` in the token response, devInteractions as the test login.
// 2. A "front" before the FHIR server (helios-hfs, which has no SMART support):
//    serves `/fhir/.well-known/smart-configuration`, checks every request's
//    bearer token by introspection and the patient it is for, forwards to the
//    FHIR server and rewrites the server's own URLs to the front's.
//
// Started by tests/region/up; configuration comes from the environment (see
// tests/region/README.md). Logs go to stdout/stderr (redirected by `up`).

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

const env = process.env;
const need = (name) => {
  const v = env[name];
  if (!v) {
    console.error(`region.mjs: ${name} must be set`);
    process.exit(2);
  }
  return v;
};

const NODE_DIR = need('NARA_REGION_NODE');
const STATE_DIR = need('NARA_REGION_DIR');
const AUTH_PORT = Number(need('NARA_AUTH_PORT'));
const FRONT_PORT = Number(need('NARA_FRONT_PORT'));
const HFS_URL = need('NARA_FHIR_DIRECT_URL').replace(/\/+$/, '');
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${AUTH_PORT}`;
const FRONT_ORIGIN = `http://${HOST}:${FRONT_PORT}`;
const FHIR_URL = `${FRONT_ORIGIN}/fhir`;
const ACCESS_TTL = Number(env.NARA_ACCESS_TTL || 300);
const REFRESH_TTL = Number(env.NARA_REFRESH_TTL || 14 * 24 * 3600);
const INTROSPECT_CACHE_MS = Number(env.NARA_INTROSPECT_CACHE_MS || 5000);
const UPSTREAM_TIMEOUT_MS = Number(env.NARA_UPSTREAM_TIMEOUT_MS || 120000);
const MAX_BODY = 64 * 1024 * 1024;

// Test users of the login: user name -> Patient id. NARA_REGION_USERS adds
// more as "name:patient-id,name2:patient-id2".
const USERS = { anna: 'anna-1', bertil: 'bertil-1', cecilia: 'cecilia-1', dagny: 'dagny-1', erik: 'erik-1' };
for (const pair of (env.NARA_REGION_USERS || '').split(',').filter(Boolean)) {
  const [name, id] = pair.split(':');
  if (name && id) USERS[name.trim()] = id.trim();
}
const PATIENT_NAMES = {
  anna: ['Andersson', 'Anna'],
  bertil: ['Berg', 'Bertil'],
  cecilia: ['Carlsson', 'Cecilia'],
  dagny: ['Dahl', 'Dagny'],
  erik: ['Ek', 'Erik'],
};

const SMART_SCOPES = [
  'launch/patient',
  'offline_access',
  'online_access',
  'fhirUser',
  'patient/*.rs', 'patient/*.cruds', 'patient/*.read', 'patient/*.write', 'patient/*.*',
];
for (const type of ['Observation', 'Goal', 'CarePlan', 'Patient', 'QuestionnaireResponse',
  'Questionnaire', 'Communication', 'CommunicationRequest', 'Binary', 'Appointment',
  'AppointmentResponse', 'Task', 'DocumentReference', 'Device', 'List']) {
  // SMART v2: every non-empty permission set in c-r-u-d-s order; v1: read, write, *.
  const v2 = [];
  for (let mask = 1; mask < 32; mask++) {
    v2.push([...'cruds'].filter((_, i) => mask & (1 << i)).join(''));
  }
  for (const p of [...v2, 'read', 'write', '*']) {
    SMART_SCOPES.push(`patient/${type}.${p}`);
  }
}

const log = (...a) => console.log(new Date().toISOString(), ...a);

// A secret of this run, for the front's own client (introspection) and the
// provider's cookies. Kept in the state dir so a restarted front still works.
function stateSecret(name) {
  const file = path.join(STATE_DIR, name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const s = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(file, `${s}\n`, { mode: 0o600 });
    return s;
  }
}
const FRONT_SECRET = stateSecret('front-client-secret');
const COOKIE_KEY = stateSecret('cookie-key');

const { default: Provider, errors } = await import(
  pathToFileURL(path.join(NODE_DIR, 'node_modules/oidc-provider/lib/index.js')).href
);

// ---------------------------------------------------------------- provider

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: 'nara-app',
      client_name: 'Nära',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // Loopback redirect URIs: for a native client oidc-provider accepts any
      // port on these (RFC 8252 section 7.3), e.g. http://127.0.0.1:53123/callback.
      redirect_uris: [
        'http://127.0.0.1/callback',
        'http://localhost/callback',
        'http://[::1]/callback',
        'se.nara.app:/callback',
      ],
    },
    {
      // The front's own confidential client, used only for introspection.
      client_id: 'nara-front',
      client_secret: FRONT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  async findAccount(_ctx, id) {
    const patient = USERS[id];
    if (!patient) return undefined;
    const [family, given] = PATIENT_NAMES[id] || [id, id];
    return {
      accountId: id,
      async claims() {
        return { sub: id, fhirUser: `${FHIR_URL}/Patient/${patient}`, name: `${given} ${family}` };
      },
    };
  },
  claims: {
    openid: ['sub'],
    fhirUser: ['fhirUser'],
    profile: ['name'],
  },
  scopes: ['openid', ...SMART_SCOPES],
  // SMART clients send aud = the FHIR base URL; reject any other value.
  extraParams: {
    aud(_ctx, value) {
      if (value === undefined) return;
      const norm = (u) => String(u).replace(/\/+$/, '');
      if (norm(value) !== FHIR_URL) {
        throw new errors.InvalidRequest(`unknown aud ${value}; this server serves ${FHIR_URL}`);
      }
    },
    launch: null,
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy(_ctx, client, token) {
        return client.clientId === 'nara-front' || token.clientId === client.clientId;
      },
    },
    resourceIndicators: { enabled: false },
    userinfo: { enabled: true },
  },
  extraTokenClaims(_ctx, token) {
    const patient = USERS[token.accountId];
    return patient ? { patient, fhirUser: `Patient/${patient}` } : undefined;
  },
  // SMART wants fhirUser in the id_token, not only from userinfo.
  conformIdTokenClaims: false,
  ttl: {
    AccessToken: ACCESS_TTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: REFRESH_TTL,
    Grant: REFRESH_TTL,
    Session: REFRESH_TTL,
  },
  cookies: { keys: [COOKIE_KEY] },
  renderError(ctx, out, _error) {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;

// SMART: the token response carries the patient in context when launch/patient
// was granted (on the code exchange and on refresh).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.access_token) {
    const scopes = String(ctx.body.scope || '').split(' ');
    const account = ctx.oidc.entities?.AccessToken?.accountId || ctx.oidc.entities?.Account?.accountId;
    const patient = USERS[account];
    if (patient && scopes.includes('launch/patient')) {
      ctx.body = { ...ctx.body, patient, need_patient_banner: false };
    }
  }
});

// Revocation or a destroyed grant must take effect at the front at once.
const introspectCache = new Map();
for (const ev of ['access_token.destroyed', 'refresh_token.destroyed', 'grant.revoked',
  'grant.destroyed', 'refresh_token.consumed']) {
  provider.on(ev, () => introspectCache.clear());
}
provider.on('server_error', (_ctx, err) => log('auth server_error', err));
provider.on('grant.error', (_ctx, err) => log('auth grant.error', err.message, err.error_description || ''));
provider.on('authorization.error', (_ctx, err) => log('auth authorization.error', err.message, err.error_description || ''));
provider.on('introspection.error', (_ctx, err) => log('auth introspection.error', err.message));
provider.on('revocation.error', (_ctx, err) => log('auth revocation.error', err.message));

// ---------------------------------------------------------------- front

function introspect(token) {
  const now = Date.now();
  const hit = introspectCache.get(token);
  if (hit && hit.until > now) return hit.result;
  const result = (async () => {
    const res = await fetch(`${ISSUER}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`nara-front:${FRONT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    if (!res.ok) throw new Error(`introspection answered ${res.status}`);
    return res.json();
  })();
  introspectCache.set(token, { result, until: now + INTROSPECT_CACHE_MS });
  result.then((r) => {
    if (r.active && r.exp) {
      const e = introspectCache.get(token);
      if (e) e.until = Math.min(e.until, r.exp * 1000);
    }
  }, () => introspectCache.delete(token));
  if (introspectCache.size > 10000) introspectCache.clear();
  return result;
}

function outcome(code, text) {
  return JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics: text }],
  });
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(body);
}

function smartConfiguration() {
  return {
    issuer: ISSUER,
    jwks_uri: `${ISSUER}/jwks`,
    authorization_endpoint: `${ISSUER}/auth`,
    token_endpoint: `${ISSUER}/token`,
    revocation_endpoint: `${ISSUER}/token/revocation`,
    introspection_endpoint: `${ISSUER}/token/introspection`,
    userinfo_endpoint: `${ISSUER}/me`,
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', ...SMART_SCOPES],
    capabilities: [
      'launch-standalone',
      'client-public',
      'context-standalone-patient',
      'permission-offline',
      'permission-patient',
      'permission-v1',
      'permission-v2',
      'sso-openid-connect',
    ],
  };
}

// ---- permission checks

const PATIENT_REF = /(?:^|\/)Patient\/([^/?#]+)(?:\/_history\/[^/]*)?$/;

// Patient id a reference string points at, or undefined when it is not a
// Patient reference.
function patientOf(ref) {
  if (typeof ref !== 'string') return undefined;
  const m = PATIENT_REF.exec(ref);
  return m ? decodeURIComponent(m[1]) : undefined;
}

// SMART scopes: v2 (patient/Type.cruds) and v1 (patient/Type.read|write|*).
function scopeAllows(scopes, type, perm) {
  for (const raw of scopes) {
    const m = /^(patient|user)\/([A-Za-z*]+)\.([^?]+)(\?.*)?$/.exec(raw);
    if (!m) continue;
    if (m[2] !== '*' && m[2] !== type) continue;
    let perms = m[3];
    if (perms === 'read') perms = 'rs';
    else if (perms === 'write') perms = 'cud';
    else if (perms === '*') perms = 'cruds';
    if ([...perm].some((p) => perms.includes(p))) return true;
  }
  return false;
}

class Denied extends Error {
  constructor(status, code, text) {
    super(text);
    this.status = status;
    this.code = code;
  }
}

// Check one FHIR interaction (method + path relative to the base + query).
function checkInteraction(ctx, method, relPath, query) {
  const parts = relPath.split('/').filter(Boolean);
  const type = parts[0];
  if (!type) {
    // System level: a Bundle POST is checked entry by entry by the caller;
    // system search/history is not for patients.
    if (method === 'POST') return;
    throw new Denied(403, 'forbidden', 'system-level interactions are not allowed for a patient token');
  }
  if (type === 'metadata') return;
  if (type.startsWith('$') || type === '_history') {
    throw new Denied(403, 'forbidden', `${type} is not allowed for a patient token`);
  }
  let perm;
  const isSearch = parts.length === 1 ? method === 'GET' || method === 'HEAD'
    : parts[1] === '_search' || (parts[1] === '_history' && parts.length === 2);
  if (isSearch) perm = 's';
  else if (method === 'GET' || method === 'HEAD') perm = 'r';
  else if (method === 'POST') perm = 'c';
  else if (method === 'PUT') perm = 'uc'; // update, or update-as-create
  else if (method === 'PATCH') perm = 'u';
  else if (method === 'DELETE') perm = 'd';
  else throw new Denied(405, 'not-supported', `method ${method}`);
  if (method === 'PUT' && parts.length === 1) perm = 'u'; // conditional update
  if (method === 'DELETE' && parts.length === 1) perm = 'd';
  if (!scopeAllows(ctx.scopes, type, perm)) {
    throw new Denied(403, 'forbidden', `the token's scopes do not allow '${perm}' on ${type}`);
  }
  // ADR 0011: a patch or a conditional update/delete could reach the region's
  // public content; the app never needs them on these types.
  if (OWNER_FIELD[type] && (method === 'PATCH' || ((method === 'PUT' || method === 'DELETE') && parts.length === 1))) {
    throw new Denied(403, 'forbidden', `${method} ${parts.length === 1 ? `conditional ${type}` : type} is not allowed for a patient token`);
  }
  // Patient compartment.
  if (type === 'Patient') {
    if (parts.length >= 2 && !parts[1].startsWith('_') && decodeURIComponent(parts[1]) !== ctx.patient) {
      throw new Denied(403, 'forbidden', `Patient/${parts[1]} is not this token's patient`);
    }
    if (parts.length === 1 || parts[1] === '_search') {
      const ids = (query.getAll('_id').join(',')).split(',').filter(Boolean);
      if (method === 'POST' && parts.length === 1) { /* create: body checked */ } else if (ids.length === 0 || ids.some((id) => id !== ctx.patient)) {
        throw new Denied(403, 'forbidden', 'a Patient search must name this token\'s patient in _id');
      }
    }
  }
  checkPatientParams(ctx, query);
}

// Search parameters patient= and subject= (any modifier) must name the token's patient.
function checkPatientParams(ctx, query) {
  for (const [key, value] of query) {
    const name = key.split(':')[0].split('.')[0];
    if (name !== 'patient' && name !== 'subject') continue;
    // subject:missing=true|false names no patient (ADR 0011: the public library
    // is DocumentReference?type=…&subject:missing=true); answers are filtered.
    if (key.split('.')[0] === `${name}:missing` && /^(true|false)$/.test(value)) continue;
    for (const v of value.split(',')) {
      const id = patientOf(v) ?? (v.includes('/') ? `?${v}` : v);
      if (id !== ctx.patient) {
        throw new Denied(403, 'forbidden', `${key}=${v} is not this token's patient`);
      }
    }
  }
}

// securityContext: a Binary (a chat photo) belongs to the patient it names;
// for and owner: a Task (a reschedule request, ADR 0010 section 4).
const REFERENCE_FIELDS = ['subject', 'patient', 'for', 'owner', 'sender', 'author', 'source', 'actor',
  'beneficiary', 'performer', 'recipient', 'requester', 'participant', 'securityContext'];

// ADR 0011: DocumentReference, List and Binary belong to the patient their
// owner field names. Without one they are the region's public content (the
// self-care library and its images): any patient token may read them, none
// may write them.
const OWNER_FIELD = { DocumentReference: 'subject', List: 'subject', Binary: 'securityContext' };
const ownedBy = (resource) => patientOf(resource?.[OWNER_FIELD[resource?.resourceType]]?.reference);

// The self-care articles and a patient's assignment list are the care team's
// even when they name the patient.
const hasCoding = (cc, system, code) => [].concat(cc || []).some((c) => (c?.coding || []).some((x) => x?.system === system && x?.code === code));
const isRegionContent = (r) => (r.resourceType === 'DocumentReference'
    && hasCoding(r.type, 'https://nara.se/fhir/CodeSystem/document-type', 'self-care-article'))
  || (r.resourceType === 'List' && hasCoding(r.code, 'https://nara.se/fhir/CodeSystem/list', 'assigned-self-care'));

function checkWritable(ctx, resource, where) {
  if (!resource || typeof resource !== 'object' || !OWNER_FIELD[resource.resourceType]) return;
  if (isRegionContent(resource)) {
    throw new Denied(403, 'forbidden', `${where}: self-care articles and assignment lists are written by the care team only`);
  }
  if (ownedBy(resource) !== ctx.patient) {
    throw new Denied(403, 'forbidden', `${where}: a ${resource.resourceType} without ${OWNER_FIELD[resource.resourceType]}`
      + ` = this token's patient is the region's content; a patient token cannot write it`);
  }
}

// An update or delete of Type/id must not replace another patient's resource,
// nor the region's public content (checked against what the server has now).
async function checkTarget(ctx, method, rel, where) {
  if (!['PUT', 'DELETE', 'PATCH'].includes(method)) return;
  const parts = rel.split('/').filter(Boolean);
  if (parts.length < 2 || /^[_$]/.test(parts[1])) return;
  const r = await forward('GET', `/${parts[0]}/${parts[1]}`, { accept: 'application/fhir+json' });
  if (r.status !== 200) return;
  let current;
  try { current = JSON.parse(r.body.toString('utf8')); } catch { return; }
  if (belongsToOther(ctx, current)) {
    throw new Denied(403, 'forbidden', `${where}: ${parts[0]}/${parts[1]} belongs to another patient`);
  }
  checkWritable(ctx, current, `${where}: ${parts[0]}/${parts[1]} on the server`);
}

async function checkTargets(ctx, method, rel, body) {
  await checkTarget(ctx, method, rel, 'request');
  if (method === 'POST' && !rel && body?.resourceType === 'Bundle' && (body.type === 'transaction' || body.type === 'batch')) {
    for (const [i, entry] of (body.entry || []).entries()) {
      const req = entry?.request || {};
      const url = new URL(String(req.url || ''), 'http://x/');
      await checkTarget(ctx, String(req.method || 'POST').toUpperCase(), url.pathname.replace(/^\/+/, ''), `request entry ${i}`);
    }
  }
}

// Check the Patient references of one resource in a request body.
function checkResource(ctx, resource, where) {
  if (!resource || typeof resource !== 'object') return;
  if (resource.resourceType === 'Patient' && resource.id !== ctx.patient) {
    throw new Denied(403, 'forbidden', `${where}: a Patient resource other than this token's patient`);
  }
  const refs = [];
  const collect = (v) => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      if (typeof v.reference === 'string') refs.push(v.reference);
      if (v.actor) collect(v.actor); // participant[].actor
    }
  };
  for (const f of REFERENCE_FIELDS) collect(resource[f]);
  for (const ref of refs) {
    const id = patientOf(ref);
    if (id !== undefined && id !== ctx.patient) {
      throw new Denied(403, 'forbidden', `${where}: reference ${ref} is not this token's patient`);
    }
  }
}

function checkBody(ctx, body, where) {
  if (body?.resourceType === 'Bundle' && (body.type === 'transaction' || body.type === 'batch')) {
    (body.entry || []).forEach((entry, i) => {
      const w = `${where} entry ${i}`;
      const req = entry.request || {};
      const url = new URL(String(req.url || ''), 'http://x/');
      const rel = url.pathname.replace(/^\/+/, '');
      checkInteraction(ctx, String(req.method || 'POST').toUpperCase(), rel, url.searchParams);
      if (req.ifNoneExist) {
        checkPatientParams(ctx, new URLSearchParams(req.ifNoneExist));
      }
      checkResource(ctx, entry.resource, w);
      checkWritable(ctx, entry.resource, w);
    });
    return;
  }
  checkResource(ctx, body, where);
  checkWritable(ctx, body, where);
}

// Resources of another patient in an answer: a single read is denied, search
// and history Bundles lose those entries.
function belongsToOther(ctx, resource) {
  if (!resource || typeof resource !== 'object') return false;
  if (resource.resourceType === 'Patient') return resource.id !== ctx.patient;
  try {
    checkResource(ctx, resource, 'answer');
    return false;
  } catch {
    return true;
  }
}

// ADR 0010: an answer to a notice (AppointmentResponse.appointment, Task.focus,
// a QuestionnaireResponse's appointment extension, a receipt's about) must name
// an Appointment with the token's patient among its participants. An
// Appointment the server does not have is let through (it is nobody's).
const APPOINTMENT_EXT = 'https://nara.se/fhir/StructureDefinition/appointment';
const APPOINTMENT_REF = /(?:^|\/)Appointment\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/;

function appointmentRefs(resource) {
  const ids = [];
  if (!resource || typeof resource !== 'object') return ids;
  const add = (r) => {
    const m = APPOINTMENT_REF.exec(typeof r?.reference === 'string' ? r.reference : '');
    if (m) ids.push(m[1]);
  };
  add(resource.appointment);
  [].concat(resource.focus || [], resource.about || []).forEach(add);
  for (const e of Array.isArray(resource.extension) ? resource.extension : []) {
    if (e?.url === APPOINTMENT_EXT) add(e.valueReference);
  }
  return ids;
}

async function checkAppointments(ctx, body) {
  const resources = body?.resourceType === 'Bundle' && (body.type === 'transaction' || body.type === 'batch')
    ? (body.entry || []).map((e) => e?.resource) : [body];
  for (const id of new Set(resources.flatMap(appointmentRefs))) {
    const r = await forward('GET', `/Appointment/${id}`, { accept: 'application/fhir+json' });
    if (r.status !== 200) continue;
    let appt;
    try { appt = JSON.parse(r.body.toString('utf8')); } catch { continue; }
    if (!(appt.participant || []).some((p) => patientOf(p?.actor?.reference) === ctx.patient)) {
      throw new Denied(403, 'forbidden', `Appointment/${id} is not an appointment of this token's patient`);
    }
  }
}

// ---- proxy

const HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization', 'accept-encoding',
  'content-length', 'content-encoding', 'x-tenant-id']);
const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const HFS = new URL(HFS_URL);
const HFS_PATH = HFS.pathname.replace(/\/+$/, '');
const hfsBaseRe = new RegExp(`${HFS_URL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![0-9])`, 'g');
const rewrite = (s) => s.replace(hfsBaseRe, FHIR_URL);

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Denied(413, 'too-costly', 'request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      const enc = String(req.headers['content-encoding'] || '').toLowerCase();
      try {
        if (enc === 'gzip') buf = zlib.gunzipSync(buf);
        else if (enc === 'deflate') buf = zlib.inflateSync(buf);
        else if (enc && enc !== 'identity') throw new Denied(415, 'not-supported', `content-encoding ${enc}`);
      } catch (e) {
        reject(e instanceof Denied ? e : new Denied(400, 'invalid', `cannot decode body: ${e.message}`));
        return;
      }
      resolve(buf);
    });
    req.on('error', reject);
  });
}

function forward(method, pathAndQuery, headers, body) {
  return new Promise((resolve, reject) => {
    const up = http.request({
      host: HFS.hostname,
      port: HFS.port,
      method,
      path: HFS_PATH + pathAndQuery,
      headers: { ...headers, ...(body ? { 'content-length': body.length } : {}), 'accept-encoding': 'identity' },
      agent: upstreamAgent,
      timeout: UPSTREAM_TIMEOUT_MS,
    }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
      r.on('error', reject);
    });
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', reject);
    if (body) up.end(body); else up.end();
  });
}

let requestCounter = 0;

async function handleFront(req, res) {
  const started = Date.now();
  const n = ++requestCounter;
  const url = new URL(req.url, FRONT_ORIGIN);
  const method = req.method.toUpperCase();
  let status = 0;
  try {
    if (url.pathname === '/health') {
      status = 200;
      send(res, 200, '{"status":"ok"}', { 'content-type': 'application/json' });
      return;
    }
    if (url.pathname === '/fhir/.well-known/smart-configuration' || url.pathname === '/.well-known/smart-configuration') {
      status = 200;
      send(res, 200, JSON.stringify(smartConfiguration(), null, 2), {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
      });
      return;
    }
    if (url.pathname !== '/fhir' && !url.pathname.startsWith('/fhir/')) {
      throw new Denied(404, 'not-found', 'the FHIR endpoint is /fhir');
    }
    const rel = url.pathname.slice('/fhir'.length).replace(/^\/+/, '');
    const isMetadata = rel === 'metadata' && method === 'GET';

    const ctx = { patient: undefined, scopes: [] };
    if (!isMetadata) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
      if (!m) {
        status = 401;
        send(res, 401, outcome('login', 'an access token is required (Authorization: Bearer)'), {
          'www-authenticate': 'Bearer realm="nara-region"',
        });
        return;
      }
      let info;
      try {
        info = await introspect(m[1]);
      } catch (e) {
        throw new Denied(503, 'transient', `cannot check the token: ${e.message}`);
      }
      if (!info.active || (info.exp && info.exp * 1000 <= Date.now())) {
        status = 401;
        send(res, 401, outcome('login', 'the access token is not active'), {
          'www-authenticate': 'Bearer realm="nara-region", error="invalid_token"',
        });
        return;
      }
      if (!info.patient) throw new Denied(403, 'forbidden', 'the token has no patient');
      ctx.patient = info.patient;
      ctx.scopes = String(info.scope || '').split(' ');
      checkInteraction(ctx, method, rel, url.searchParams);
      if (req.headers['if-none-exist']) {
        checkPatientParams(ctx, new URLSearchParams(String(req.headers['if-none-exist'])));
      }
    }

    let body;
    let parsed;
    if (!['GET', 'HEAD', 'DELETE'].includes(method)) {
      body = await readBody(req);
      if (body.length) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw new Denied(400, 'invalid', 'the front accepts only JSON request bodies');
        }
        if (!isMetadata && method !== 'PATCH') {
          checkBody(ctx, parsed, 'request');
          await checkAppointments(ctx, parsed);
        }
      }
    }
    if (!isMetadata) await checkTargets(ctx, method, rel, parsed);

    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    const up = await forward(method, `/${rel}${url.search}`, headers, body);
    status = up.status;

    const outHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) {
      if (HOP.has(k)) continue;
      outHeaders[k] = Array.isArray(v) ? v.map(rewrite) : rewrite(String(v));
    }
    let out = up.body;
    const ct = String(up.headers['content-type'] || '');
    if (out.length && /json/i.test(ct)) {
      let text = rewrite(out.toString('utf8'));
      if (!isMetadata && method === 'GET' && status === 200) {
        try {
          const doc = JSON.parse(text);
          if (doc.resourceType === 'Bundle' && Array.isArray(doc.entry)) {
            const kept = doc.entry.filter((e) => !belongsToOther(ctx, e.resource));
            if (kept.length !== doc.entry.length) {
              doc.entry = kept;
              text = JSON.stringify(doc);
            }
          } else if (belongsToOther(ctx, doc)) {
            throw new Denied(403, 'forbidden', 'the resource belongs to another patient');
          }
        } catch (e) {
          if (e instanceof Denied) throw e;
        }
      } else if (!isMetadata && (method === 'POST' || method === 'PUT') && (status === 200 || status === 201)) {
        // A conditional create that matched returns the existing resource:
        // never another patient's (a transaction answer loses that entry's resource).
        try {
          const doc = JSON.parse(text);
          if (doc.resourceType === 'Bundle' && Array.isArray(doc.entry) && /-response$/.test(String(doc.type))) {
            let changed = false;
            for (const e of doc.entry) {
              if (e.resource && belongsToOther(ctx, e.resource)) {
                delete e.resource;
                changed = true;
              }
            }
            if (changed) text = JSON.stringify(doc);
          } else if (doc.resourceType !== 'Bundle' && belongsToOther(ctx, doc)) {
            throw new Denied(403, 'forbidden', 'the matching resource belongs to another patient');
          }
        } catch (e) {
          if (e instanceof Denied) throw e;
        }
      }
      out = Buffer.from(text, 'utf8');
    }
    if (out.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] || ''))) {
      out = zlib.gzipSync(out);
      outHeaders['content-encoding'] = 'gzip';
      outHeaders.vary = 'Accept-Encoding';
    }
    outHeaders['content-length'] = out.length;
    res.writeHead(status, outHeaders);
    res.end(method === 'HEAD' ? undefined : out);
  } catch (e) {
    if (e instanceof Denied) {
      status = e.status;
      if (!res.headersSent) send(res, e.status, outcome(e.code, e.message));
    } else {
      status = 502;
      log(`front #${n} error`, e);
      if (!res.headersSent) send(res, 502, outcome('transient', `upstream error: ${e.message}`));
      else res.destroy();
    }
  } finally {
    log(`front #${n} ${method} ${url.pathname}${url.search} -> ${status} ${Date.now() - started}ms`);
  }
}

// ---------------------------------------------------------------- startup

async function ensurePatients() {
  for (const [user, id] of Object.entries(USERS)) {
    const get = await fetch(`${HFS_URL}/Patient/${id}`, { headers: { accept: 'application/fhir+json' } });
    if (get.status === 200) continue;
    const [family, given] = PATIENT_NAMES[user] || [user, user];
    const put = await fetch(`${HFS_URL}/Patient/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Patient',
        id,
        identifier: [{ system: 'https://nara.se/fhir/test-user', value: user }],
        active: true,
        name: [{ family, given: [given] }],
      }),
    });
    if (put.status >= 300) {
      throw new Error(`PUT Patient/${id} answered ${put.status}: ${await put.text()}`);
    }
    log(`created Patient/${id} for user ${user}`);
  }
}

function listen(server, port, name) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      log(`${name} listening on http://${HOST}:${port}`);
      resolve();
    });
  });
}

// The devInteractions login form takes any name; only the test users exist.
// An unknown name is answered here (oidc-provider would fail later with a 500).
const authCallback = provider.callback();
const authServer = http.createServer((req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith('/interaction/')) {
    authCallback(req, res);
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const form = new URLSearchParams(raw);
    if (form.get('prompt') === 'login' && !Object.hasOwn(USERS, form.get('login') || '')) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!DOCTYPE html><title>Sign-in</title><p>Unknown test user. Test users: ${Object.keys(USERS).join(', ')}. Go back and try again.</p>`);
      return;
    }
    req.body = raw; // oidc-provider reads an already read body from req.body
    authCallback(req, res);
  });
});
const frontServer = http.createServer((req, res) => {
  handleFront(req, res).catch((e) => {
    log('front unhandled', e);
    if (!res.headersSent) send(res, 500, outcome('exception', String(e)));
  });
});
frontServer.requestTimeout = 0;
frontServer.headersTimeout = 60000;

try {
  await ensurePatients();
  await listen(authServer, AUTH_PORT, 'auth');
  await listen(frontServer, FRONT_PORT, 'front');
} catch (e) {
  console.error('region.mjs: startup failed:', e);
  process.exit(1);
}

const stop = (sig) => {
  log(`${sig}: stopping`);
  authServer.close();
  frontServer.close();
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
