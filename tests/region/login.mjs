// The test login as a browser would do it, for scripts: SMART discovery,
// PKCE S256, authorize, the devInteractions login and consent forms, the
// redirect with code and state, and the code exchange. Prints the token
// response JSON (access_token, refresh_token, id_token, patient, ...) on stdout.
//
//   tests/region/login [USER] [--fhir URL] [--scope "..."] [--redirect URI] [--prompt consent|'']
//
// USER defaults to $NARA_TEST_USER, else anna; --fhir to $NARA_FHIR_URL, else
// the region's env file. It is also the reference for the HTTP steps a test
// browser has to take (tests/region/README.md, "Logging in over HTTP").

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_SCOPE = 'openid fhirUser launch/patient offline_access patient/Patient.rs '
  + 'patient/Observation.c patient/Observation.rs patient/Goal.rs patient/CarePlan.rs';

function fail(msg) {
  console.error(`login: ${msg}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const opts = {};
const pos = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i].startsWith('--')) { opts[args[i].slice(2)] = args[i + 1]; i += 1; } else pos.push(args[i]);
}
const user = pos[0] || process.env.NARA_TEST_USER || 'anna';
const scope = opts.scope || DEFAULT_SCOPE;
const redirectUri = opts.redirect || 'http://127.0.0.1:53682/callback';
let fhirUrl = opts.fhir || process.env.NARA_FHIR_URL;
if (!fhirUrl) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const stateDir = process.env.NARA_REGION_DIR || path.join(here, '..', '..', 'target', 'region');
  try {
    fhirUrl = /^NARA_FHIR_URL=(.*)$/m.exec(fs.readFileSync(path.join(stateDir, 'env'), 'utf8'))[1].trim();
  } catch {
    fail(`no region: pass --fhir URL, set NARA_FHIR_URL or start tests/region/up (no ${stateDir}/env)`);
  }
}

// A cookie jar that honours Path, which oidc-provider's interaction cookies use.
const jar = new Map();
function storeCookies(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let cpath = '/';
    let expired = false;
    for (const a of attrs) {
      const [k, v] = a.split('=').map((s) => s?.trim());
      if (k.toLowerCase() === 'path') cpath = v;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    const key = `${name};${cpath}`;
    if (expired || value === '') jar.delete(key); else jar.set(key, { name, value, path: cpath });
  }
}
function cookieHeader(url) {
  const p = new URL(url).pathname;
  return [...jar.values()].filter((c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || p.startsWith(c.path))
    .map((c) => `${c.name}=${c.value}`).join('; ');
}
async function browse(url, init = {}) {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers || {}), cookie: cookieHeader(url) },
  });
  storeCookies(res);
  return res;
}

const smart = await (await fetch(`${fhirUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`)).json();
const verifier = crypto.randomBytes(32).toString('base64url');
const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
const state = crypto.randomBytes(16).toString('base64url');
const authorize = new URL(smart.authorization_endpoint);
authorize.search = new URLSearchParams({
  response_type: 'code',
  client_id: 'nara-app',
  redirect_uri: redirectUri,
  scope,
  state,
  aud: fhirUrl,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  ...(opts.prompt === '' ? {} : { prompt: opts.prompt ?? 'consent' }),
}).toString();

let url = authorize.href;
let codeUrl;
for (let step = 0; step < 12 && !codeUrl; step += 1) {
  const res = await browse(url);
  if (res.status === 303 || res.status === 302) {
    const next = new URL(res.headers.get('location'), url).href;
    if (next.startsWith(redirectUri)) codeUrl = new URL(next);
    else url = next;
    continue;
  }
  const html = await res.text();
  if (res.status !== 200) fail(`GET ${url} answered ${res.status}: ${html.slice(0, 300)}`);
  const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
  const form = new URLSearchParams({ prompt });
  if (prompt === 'login') {
    form.set('login', user);
    form.set('password', 'any');
  } else if (prompt !== 'consent') fail(`unexpected page at ${url}`);
  const post = await browse(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  if (post.status !== 303) fail(`POST ${url} prompt=${prompt} answered ${post.status}: ${(await post.text()).slice(0, 300)}`);
  url = new URL(post.headers.get('location'), url).href;
}
if (!codeUrl) fail(`no redirect to ${redirectUri} (unknown user '${user}'?)`);
if (codeUrl.searchParams.get('error')) fail(`authorization error: ${codeUrl.search}`);
if (codeUrl.searchParams.get('state') !== state) fail('the state in the redirect does not match');

const tokenRes = await fetch(smart.token_endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'authorization_code',
    code: codeUrl.searchParams.get('code'),
    redirect_uri: redirectUri,
    client_id: 'nara-app',
    code_verifier: verifier,
  }).toString(),
});
const body = await tokenRes.text();
if (tokenRes.status !== 200) fail(`token endpoint answered ${tokenRes.status}: ${body}`);
console.log(body);
