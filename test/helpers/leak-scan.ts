import { vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { resolveOptions, World } from '../../src/sim';
import type { RecordingSimulator, SimExchange } from './recording-sim';

/**
 * What must never leave the kit except where it belongs, and a scanner that
 * looks for it in everything a suite captured (see leak-watch.ts):
 *
 * - credentials: access, refresh and id tokens, authorization codes, client
 *   secrets and PKCE verifiers — nowhere, ever;
 * - VINs — nowhere (the kit's vehicle id stands in for them);
 * - coordinates — only on output 1 of ford-location (the data the owner opted in to);
 * - full vehicle ids — only in flow data (output 1, the messages flows send
 *   in), the editor's answers and saved flows; logs, node status, errors and
 *   audit records show the last 4 characters.
 */

export type Source =
  | 'log' // RED.log, node.log/debug/trace
  | 'status' // node.status
  | 'error' // node.error's error (what a log line and a catch node show)
  | 'warn'
  | 'output1' // flow data: output 1 of a vehicle node
  | 'flow-msg' // the message a node.error is about (the flow's own data)
  | 'audit' // audit records: output 2, the account's ring and file, GET …/audit
  | 'admin' // answers of the kit's editor endpoints and Node-RED's own
  | 'stdio' // process stdout / stderr, a child process's output
  | 'file'; // files at rest (flows, credentials, token files)

export interface Captured {
  source: Source;
  /** Who said it, for the report: `status of ford-lock k1`, `GET /ford-connect/accounts/acc`. */
  where: string;
  nodeType?: string;
  strings: string[];
}

export type SecretKind = 'access token' | 'refresh token' | 'id token' | 'authorization code' | 'client secret' | 'PKCE verifier' | 'token' | 'VIN' | 'coordinate' | 'vehicle id';

export interface KnownSecrets {
  /** Credential strings (full) with their kind. */
  credentials: Map<string, SecretKind>;
  vins: Set<string>;
  vehicleIds: Set<string>;
  coordinates: Set<number>;
  /**
   * Credentials and VINs the test's own flow put into messages (a stolen
   * token in a forged msg, a VIN as msg.vehicleId): a node passing the flow's
   * own msg on is not a leak, so these are not looked for in flow data
   * (output 1, the message of an error) — everywhere else they still are.
   */
  flowCarried: Set<string>;
}

export interface Leak {
  source: Source;
  where: string;
  kind: SecretKind;
  /** The text around the find, the secret itself replaced: safe to print. */
  context: string;
}

export function emptySecrets(): KnownSecrets {
  return { credentials: new Map(), vins: new Set(), vehicleIds: new Set(), coordinates: new Set(), flowCarried: new Set() };
}

// ---------------------------------------------------------------------------
// Collecting strings from anything a node or a log call was given

/**
 * Every string (and number) inside a value: Errors with message, stack and
 * cause, Buffers decoded, Maps, Sets. Never runs a getter; a proxy whose
 * traps throw yields what could be read before it threw.
 */
export function collectStrings(value: unknown, out: string[] = [], seen = new WeakSet<object>(), depth = 0): string[] {
  try {
    return collectInto(value, out, seen, depth);
  } catch {
    return out;
  }
}

function collectInto(value: unknown, out: string[], seen: WeakSet<object>, depth: number): string[] {
  if (depth > 24) return out;
  if (typeof value === 'string') {
    out.push(value);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    out.push(String(value));
    return out;
  }
  if (typeof value === 'symbol') {
    out.push(value.toString());
    return out;
  }
  if (typeof value === 'function') {
    if (value.name) out.push(value.name);
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  if (seen.has(value)) return out;
  seen.add(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('utf8'));
    return out;
  }
  if (value instanceof Date) {
    out.push(Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
    return out;
  }
  if (value instanceof Error) {
    out.push(value.name, value.message, value.stack ?? '');
    if ('cause' in value) collectStrings(value.cause, out, seen, depth + 1);
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      collectStrings(k, out, seen, depth + 1);
      collectStrings(v, out, seen, depth + 1);
    }
    return out;
  }
  if (value instanceof Set) {
    for (const v of value) collectStrings(v, out, seen, depth + 1);
    return out;
  }
  let keys: (string | symbol)[];
  try {
    keys = Reflect.ownKeys(value);
  } catch {
    return out;
  }
  for (const key of keys) {
    if (typeof key === 'string') out.push(key);
    let v: unknown;
    try {
      const d = Object.getOwnPropertyDescriptor(value, key);
      // Getters are not called: a hostile getter must not run inside the scanner.
      v = d && 'value' in d ? d.value : undefined;
    } catch {
      continue;
    }
    collectStrings(v, out, seen, depth + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------
// What the simulator knows

const CREDENTIAL_FIELDS: Record<string, SecretKind> = {
  access_token: 'access token',
  refresh_token: 'refresh token',
  id_token: 'id token',
  code: 'authorization code',
  code_verifier: 'PKCE verifier',
  client_secret: 'client secret',
  token: 'token',
  accessToken: 'access token',
  refreshToken: 'refresh token',
  clientSecret: 'client secret',
};
const COORDINATE_FIELDS = /^(lat|latitude|lon|lng|long|longitude)$/i;

function addCredential(s: KnownSecrets, value: unknown, kind: SecretKind): void {
  // Shorter strings are not secrets worth the name (and would match by chance).
  if (typeof value === 'string' && value.length >= 8) s.credentials.set(value, s.credentials.get(value) ?? kind);
}

function addCoordinate(s: KnownSecrets, value: unknown): void {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  // Only positions precise enough to matter (4+ decimals or integers with digits that large are never coordinates).
  if (Number.isFinite(n) && Math.abs(n) <= 180 && Math.abs(n) >= 0.5 && !Number.isInteger(n)) s.coordinates.add(n);
}

/** Walks a JSON value for credential fields, VINs and coordinates. */
function walkJson(s: KnownSecrets, value: unknown, depth = 0): void {
  if (depth > 20 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) walkJson(s, v, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (CREDENTIAL_FIELDS[k]) addCredential(s, v, CREDENTIAL_FIELDS[k]);
    else if (COORDINATE_FIELDS.test(k)) addCoordinate(s, v);
    else if (/^vin$/i.test(k) && typeof v === 'string') s.vins.add(v);
    walkJson(s, v, depth + 1);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Secrets in one exchange: the caller's bearer and form fields, the answer's tokens, codes in redirects, coordinates, VINs. */
export function secretsOfExchange(s: KnownSecrets, x: SimExchange): void {
  const auth = x.headers.authorization;
  if (typeof auth === 'string') {
    const bearer = /^Bearer\s+(\S+)/i.exec(auth);
    if (bearer) addCredential(s, bearer[1], 'access token');
    const basic = /^Basic\s+(\S+)/i.exec(auth);
    if (basic) {
      const [, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      addCredential(s, decodeURIComponent(secret ?? ''), 'client secret');
    }
  }
  walkJson(s, x.body);
  try {
    const query = new URL(x.url, 'http://sim').searchParams;
    for (const [k, v] of query) if (CREDENTIAL_FIELDS[k] && k !== 'code') addCredential(s, v, CREDENTIAL_FIELDS[k]);
  } catch {
    // not a URL: nothing in it
  }
  const location = x.responseHeaders.location;
  if (typeof location === 'string') {
    try {
      const u = new URL(location, 'http://sim');
      for (const [k, v] of u.searchParams) if (CREDENTIAL_FIELDS[k]) addCredential(s, v, CREDENTIAL_FIELDS[k]);
      for (const [k, v] of new URLSearchParams(u.hash.replace(/^#/, ''))) if (CREDENTIAL_FIELDS[k]) addCredential(s, v, CREDENTIAL_FIELDS[k]);
    } catch {
      // not a URL
    }
  }
  walkJson(s, parseJson(x.responseBody));
}

/**
 * Everything secret the simulator knows after a run: its store (tokens,
 * refresh tokens, codes, clients' secrets), what it handed out and was handed
 * over HTTP, every vehicle's VIN, id and position, and what the test adds
 * (PKCE verifiers the kit made, secrets typed into a dialog).
 */
export function secretsOf(sim: RecordingSimulator, extra: { credentials?: Iterable<[string, SecretKind]>; flowCarried?: Iterable<string> } = {}): KnownSecrets {
  const s = emptySecrets();
  const { store, fleet } = sim.world;
  for (const t of store.accessTokens.keys()) addCredential(s, t, t.startsWith('eyJ') ? 'id token' : 'access token');
  for (const t of store.refreshTokens.keys()) addCredential(s, t, 'refresh token');
  for (const c of store.codes.keys()) addCredential(s, c, 'authorization code');
  for (const c of store.clients.values()) addCredential(s, c.secret, 'client secret');
  for (const x of sim.exchanges) secretsOfExchange(s, x);
  for (const v of fleet.list()) {
    s.vins.add(v.vin);
    s.vehicleIds.add(v.id);
    s.vehicleIds.add(vehicleIdFromVin(v.vin));
    const position = fleet.snapshot(v.id)?.position as { lat: number; lon: number } | undefined;
    if (position) {
      addCoordinate(s, position.lat);
      addCoordinate(s, position.lon);
    }
    for (const p of v.spec.route.points ?? []) {
      addCoordinate(s, p.lat);
      addCoordinate(s, p.lon);
    }
  }
  for (const [value, kind] of extra.credentials ?? []) addCredential(s, value, kind);
  for (const value of extra.flowCarried ?? []) s.flowCarried.add(value);
  return s;
}

/**
 * The simulator's fixed secrets, the same in every run: the demo clients'
 * secrets and the seed fleet's VINs (and ids) for the seeds the suites use.
 */
export function fixedSecrets(seeds: number[] = [1, 7, 42, 99, 100, 2026]): KnownSecrets {
  const s = emptySecrets();
  const options = resolveOptions({});
  addCredential(s, options.demoClient.secret, 'client secret');
  addCredential(s, options.fleetClient.secret, 'client secret');
  for (const seed of seeds) {
    const world = new World(resolveOptions({ seed }));
    for (const v of world.fleet.list()) {
      s.vins.add(v.vin);
      s.vehicleIds.add(v.id);
    }
    world.fleet.stop();
  }
  return s;
}

// ---------------------------------------------------------------------------
// Scanning

/** The substrings of a credential that give it away: itself, its JWT parts, its first and last 16 characters. */
function credentialNeedles(secret: string): string[] {
  const out = new Set([secret]);
  if (secret.length >= 24) {
    out.add(secret.slice(0, 16));
    out.add(secret.slice(-16));
  }
  for (const part of secret.split('.')) if (part.length >= 16 && part !== secret) out.add(part);
  return [...out];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The keys a coordinate at 4+ decimals is found by, in the common spellings:
 * decimal degrees `42.3314…` / `42,3314…` (either sign, cut or rounded, any
 * further decimals), degrees minutes seconds `42°19'53`, decimal minutes
 * `4219.88` (NMEA) and micro-degrees `42331427`.
 */
export function coordinateKeys(value: number): string[] {
  const a = Math.abs(value);
  const [int, frac] = a.toFixed(10).split('.');
  const out = new Set<string>([`d:${int}.${frac.slice(0, 4)}`, `d:${int}.${a.toFixed(4).split('.')[1]}`]);
  const degrees = Math.floor(a);
  const minutes = (a - degrees) * 60;
  const m = Math.floor(minutes);
  const seconds = (minutes - m) * 60;
  for (const sec of [Math.floor(seconds), Math.round(seconds)]) if (sec < 60) out.add(`s:${degrees}°${m}'${sec}`);
  out.add(`m:${degrees}${String(m).padStart(2, '0')}.${minutes.toFixed(6).split('.')[1].slice(0, 2)}`);
  out.add(`u:${Math.trunc(a * 1e6)}`);
  out.add(`u:${Math.round(a * 1e6)}`);
  return [...out];
}

/** Number-shaped pieces of a text as coordinate keys, with where they start (linear in the text). */
function coordinateCandidates(text: string): { key: string; index: number; length: number }[] {
  const out: { key: string; index: number; length: number }[] = [];
  if (!/[0-9]/.test(text)) return out;
  for (const m of text.matchAll(/(?<![0-9])([0-9]{1,5})[.,]([0-9]{2,})/g)) {
    const [whole, int, frac] = m;
    if (int.length <= 3 && frac.length >= 4) out.push({ key: `d:${Number(int)}.${frac.slice(0, 4)}`, index: m.index, length: whole.length });
    if (int.length >= 3) out.push({ key: `m:${int}.${frac.slice(0, 2)}`, index: m.index, length: whole.length });
  }
  for (const m of text.matchAll(/(?<![0-9])[0-9]{6,9}(?![0-9])/g)) out.push({ key: `u:${Number(m[0])}`, index: m.index, length: m[0].length });
  for (const m of text.matchAll(/(?<![0-9])([0-9]{1,3})\s*°\s*([0-9]{1,2})\s*['′]\s*([0-9]{1,2})(?![0-9])/g)) {
    out.push({ key: `s:${Number(m[1])}°${Number(m[2])}'${Number(m[3])}`, index: m.index, length: m[0].length });
  }
  return out;
}

function coordinatesAllowed(c: Captured): boolean {
  return (c.source === 'output1' || c.source === 'flow-msg') && c.nodeType === 'ford-location';
}

function vehicleIdsAllowed(c: Captured): boolean {
  return c.source === 'output1' || c.source === 'flow-msg' || c.source === 'admin' || c.source === 'file';
}

function contextOf(text: string, index: number, length: number, label: string): string {
  // Long runs of token characters around the find are cut too: a second secret nearby must not be printed either.
  const hide = (t: string): string => t.replace(/[A-Za-z0-9_.~+/-]{12,}/g, '…').replace(/[\r\n]+/g, '⏎');
  return `${hide(text.slice(Math.max(0, index - 40), index))}«${label}»${hide(text.slice(index + length, index + length + 40))}`;
}

/** Every place a known secret appears where it must not. */
export function findLeaks(captured: Captured[], secrets: KnownSecrets): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  const needles: { secret: string; kind: SecretKind; parts: string[] }[] = [...secrets.credentials].map(([secret, kind]) => ({ secret, kind, parts: credentialNeedles(secret) }));
  const vins = [...secrets.vins].filter((v) => v.length >= 11);
  const ids = [...secrets.vehicleIds].map((v) => v.toLowerCase());
  const coordinates = new Set([...secrets.coordinates].flatMap(coordinateKeys));

  for (const c of captured) {
    for (const text of c.strings) {
      if (!text) continue;
      // The same string (a 1 MB hostile value, a message sent twice) is scanned once per rule set.
      const key = `${c.source}|${c.nodeType === 'ford-location' ? 'loc' : ''}|${text.length}|${text.slice(0, 64)}|${text.slice(-64)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const found = (kind: SecretKind, index: number, length: number): void => {
        leaks.push({ source: c.source, where: c.where, kind, context: contextOf(text, index, length, kind) });
      };
      const flowData = c.source === 'output1' || c.source === 'flow-msg';
      for (const { secret, kind, parts } of needles) {
        if (flowData && secrets.flowCarried.has(secret)) continue;
        for (const part of parts) {
          const i = text.indexOf(part);
          if (i >= 0) {
            found(kind, i, part.length);
            break;
          }
        }
      }
      const upper = text.toUpperCase();
      for (const vin of vins) {
        if (flowData && secrets.flowCarried.has(vin)) continue;
        const i = upper.indexOf(vin.toUpperCase());
        if (i >= 0) found('VIN', i, vin.length);
      }
      if (!vehicleIdsAllowed(c)) {
        const lower = text.toLowerCase();
        for (const id of ids) {
          const i = lower.indexOf(id);
          if (i >= 0) found('vehicle id', i, id.length);
        }
      }
      if (coordinates.size > 0 && !coordinatesAllowed(c)) {
        const hit = coordinateCandidates(text).find((k) => coordinates.has(k.key));
        if (hit) found('coordinate', hit.index, hit.length);
      }
    }
  }
  return leaks;
}

/** Strings shaped like a credential, known or not: JWTs, bearer values, token fields, 43-character base64url (32 random bytes). */
export function tokenShapedStrings(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    /\bBearer\s+(?!\[redacted\])[A-Za-z0-9._~+/-]{16,}/gi,
    /\b(?:access_token|refresh_token|id_token|client_secret|code_verifier|accessToken|refreshToken|clientSecret)["']?\s*[:=]\s*["']?(?!\[redacted\])[A-Za-z0-9._~+/-]{12,}/g,
    /(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[0]);
  return out;
}

/** A finding for a report without repeating the secret: kind, where, context. */
export function describeLeaks(leaks: Leak[], max = 20): string {
  const lines = leaks.slice(0, max).map((l) => `- ${l.kind} in ${l.source} (${l.where}): ${l.context}`);
  if (leaks.length > max) lines.push(`… and ${leaks.length - max} more`);
  return lines.join('\n');
}

/** Replaces every known secret in a text (for printing a child's output safely). */
export function redactKnown(text: string, secrets: KnownSecrets): string {
  let out = text;
  for (const [secret, kind] of secrets.credentials) out = out.split(secret).join(`«${kind}»`);
  for (const vin of secrets.vins) out = out.replace(new RegExp(escapeRegExp(vin), 'gi'), '«VIN»');
  return out;
}
