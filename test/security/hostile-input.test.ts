import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import { isApiExchange } from '../helpers/recording-sim';
import { secureIt, type SecureFlow, type Vehicles } from '../helpers/secure-flow';
import { describeSecurity } from '../helpers/security-suite';
import { accountNode, realPause, until, vehicleNode, type FlowNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const ALL = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];
const MB = 1 << 20;

/** A throwing getter or trap anywhere it is touched. */
const boom = (): never => {
  throw new Error('touched');
};

/** What `msg.vehicleId` may be when a flow is careless or hostile; `id` and `other` are well-formed ids. */
function hostileVehicleIds(id: string, other: string, vin: string): [string, unknown][] {
  return [
    ['../ before the id', `../${id}`],
    ['the id, then ../ to another vehicle', `${id}/../../${other}`],
    ['%2e%2e/ before the id', `%2e%2e/${id}`],
    ['%2e%2e%2f before the id', `%2e%2e%2f${id}`],
    ['..%2f before the id', `..%2f${id}`],
    ['an encoded slash after the id', `${id}%2Fcommands`],
    ['a query string', `${id}?vehicleId=${other}&fields=all`],
    ['a fragment', `${id}#${other}`],
    ['a NUL', `${id}\u0000`],
    ['a newline and a forged log line', `${id}\n[error] [ford-lock:x] forged`],
    ['spaces around it', ` ${id} `],
    ['a URL', `http://evil.example/${id}`],
    ['an absolute path', `/${id}`],
    ['a VIN', vin],
    ['31 characters', id.slice(1)],
    ['33 characters', `${id}0`],
    ['a fullwidth letter', `${id.slice(0, 31)}ｆ`],
    ['1 MB of hexadecimal', 'a'.repeat(MB)],
    ['1 MB of x', 'x'.repeat(MB)],
    ['1 MB of ../', '../'.repeat(MB / 3)],
    ['an empty string', ''],
    ['an object with the id', { id }],
    ['a String object', new String(id)],
    ['an object whose toString is the id', { toString: () => id }],
    ['an object with a throwing toString', { toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom }],
    ['an array with the id', [id]],
    ['an array of two ids', [id, other]],
    ['a number', 42],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['a bigint', 10n],
    ['true', true],
    ['false', false],
    ['null', null],
    ['a symbol', Symbol(id)],
    ['a function returning the id', () => id],
    ['a Date', new Date()],
    ['a Buffer of the id', Buffer.from(id)],
    ['a proxy that throws on every trap', new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom })],
    ['__proto__ JSON naming another vehicle', JSON.parse(`{"__proto__": {"vehicleId": "${other}", "toString": "x"}}`)],
  ];
}

/** `msg.payload` of every JS type, and strings that come close to an action word. */
function hostilePayloads(): [string, unknown][] {
  return [
    ['an empty string', ''],
    ['a space', ' '],
    ['LOCK', 'LOCK'],
    ['Start', 'Start'],
    ['a leading space', ' lock'],
    ['a trailing newline', 'start\n'],
    ['a NUL', 'lock\u0000'],
    ['fullwidth letters', 'ｓｔａｒｔ'],
    ['two words', 'unlock;lock'],
    ['a forged log line with ANSI colours', 'x\n[error] [ford-lock:k1] forged line \u001b[31mred\u001b[0m'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['1 MB string', 'start'.repeat(MB / 5)],
    ['0', 0],
    ['1', 1],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['a bigint', 1n],
    ['true', true],
    ['false', false],
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['{ action: "start" }', { action: 'start' }],
    ['an empty array', []],
    ['["start"]', ['start']],
    ['a Buffer of "start"', Buffer.from('start')],
    ['a Date', new Date(0)],
    ['an invalid Date', new Date(NaN)],
    ['a String object', new String('start')],
    ['an object whose toString is "start"', { toString: () => 'start' }],
    ['an object whose toPrimitive is "start"', { [Symbol.toPrimitive]: () => 'start' }],
    ['an object whose toString throws', { toString: boom, valueOf: boom }],
    ['a function returning "start"', () => 'start'],
    ['a class', class Start {}],
    ['a symbol', Symbol('start')],
    ['a RegExp', /start/],
    ['a Map', new Map([['start', 'start']])],
    ['an Error', new Error('start')],
    ['a proxy that throws on every trap', new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom })],
    ['__proto__ JSON', JSON.parse('{"__proto__": {"polluted": "yes", "action": "start", "payload": "start"}}')],
    ['constructor.prototype JSON', JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}')],
  ];
}

/** Node id → how a valid message to it looks (a payload the node would accept, a topic). */
interface Target {
  id: string;
  base: Record<string, unknown>;
}

function targets(): Target[] {
  return [
    { id: 's1', base: {} },
    { id: 'l1', base: {} },
    { id: 'k1', base: { payload: 'lock' } },
    { id: 'r1', base: { payload: 'start' } },
    { id: 'h1', base: {} },
    { id: 'c1', base: { payload: 'start' } },
    { id: 'c1', base: { topic: 'schedules' } },
  ];
}

function everyNode(f: SecureFlow, v: Vehicles, extra: Record<string, unknown> = {}): FlowNode[] {
  return [
    ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always', ...extra }),
    ...vehicleNode('ford-location', 'l1', { vehicleId: v.truck, optIn: true, interval: 0, precision: 0, output: 'always', ...extra }),
    ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'msg', confirm: true, ...extra }),
    ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'msg', confirm: true, ...extra }),
    ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: v.truck, ...extra }),
    ...vehicleNode('ford-charge', 'c1', { vehicleId: v.bev, action: 'msg', interval: 0, ...extra }),
  ];
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must not be in a log line
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u001b]|[\n\r]/;

/**
 * What a refusal may show: short, one line, no control characters (a log
 * line cannot be forged), and not the hostile value: never any of a vehicle
 * id (it may be a VIN), at most the first 20 characters of a payload.
 */
function expectClean(text: string, hostile: unknown, where: string, what: 'vehicleId' | 'payload'): void {
  expect(text.length, `${where}: length`).to.be.below(400);
  expect(CONTROL.test(text), `${where} has a control character: ${JSON.stringify(text.slice(0, 120))}`).to.equal(false);
  const echo = what === 'vehicleId' ? 8 : 24;
  if (typeof hostile === 'string' && hostile.length >= echo) expect(text, where).to.not.include(hostile.slice(0, Math.max(echo, 40)));
}

/** Sends every value to every target, one message each, and checks each was refused with an error, an audit record and no request. */
async function expectAllRefused(f: SecureFlow, cases: { target: Target; label: string; msg: Record<string, unknown>; hostile: unknown }[], what: 'vehicleId' | 'payload'): Promise<void> {
  const mark = f.rec.exchanges.length;
  const errorsBefore = new Map<string, number>();
  const auditBefore = new Map<string, number>();
  const outBefore = new Map<string, number>();
  for (const { target } of cases) {
    if (!errorsBefore.has(target.id)) {
      errorsBefore.set(target.id, f.errors(target.id).length);
      auditBefore.set(target.id, f.of(target.id).audit.length);
      outBefore.set(target.id, f.of(target.id).out.length);
    }
  }
  const expected = new Map<string, number>();
  for (const c of cases) {
    expected.set(c.target.id, (expected.get(c.target.id) ?? 0) + 1);
    const errors = f.errors(c.target.id).length;
    const audits = f.of(c.target.id).audit.length;
    helper.getNode(c.target.id).receive(c.msg);
    // One at a time, so each error and record belongs to its message.
    await until(() => f.errors(c.target.id).length === errors + 1 && f.of(c.target.id).audit.length === audits + 1, `the refusal by ${c.target.id} of ${c.label}`);
    const error = f.errors(c.target.id).at(-1);
    const record = f.of(c.target.id).audit.at(-1) as AuditRecord;
    expectClean(String(error instanceof Error ? error.message : error), c.hostile, `error of ${c.target.id} for ${c.label}`, what);
    expectClean(record.detail, c.hostile, `audit detail of ${c.target.id} for ${c.label}`, what);
    expectClean(String(f.lastStatus(c.target.id)?.text ?? ''), c.hostile, `status of ${c.target.id} for ${c.label}`, what);
    expect(record.outcome, `audit outcome of ${c.target.id} for ${c.label}`).to.be.oneOf(['failed', 'denied']);
    expect(record.vehicle, `audit vehicle of ${c.target.id} for ${c.label}`).to.match(/^(|…[0-9a-f]{4})$/);
  }
  await realPause(30);
  for (const [id, n] of expected) {
    expect(f.errors(id).length - (errorsBefore.get(id) ?? 0), `errors of ${id}`).to.equal(n);
    expect(f.of(id).audit.length - (auditBefore.get(id) ?? 0), `audit records of ${id}`).to.equal(n);
    expect(f.of(id).out.length - (outBefore.get(id) ?? 0), `messages on output 1 of ${id}`).to.equal(0);
  }
  expect(f.since(mark).map((x) => `${x.method} ${x.path}`), 'requests that reached the simulator').to.deep.equal([]);
}

/** Object.prototype as the suite found it (the test helper's `should` adds a property of its own). */
const PROTOTYPE_BEFORE = Object.getOwnPropertyNames(Object.prototype).sort();

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').to.equal(undefined);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(PROTOTYPE_BEFORE);
  expect(Object.getOwnPropertyNames(Array.prototype)).to.not.include('polluted');
}

describeSecurity('security: hostile input is refused before any request is built, with an error and an audit record, and crashes nothing', function () {
  this.timeout(60_000);

  secureIt('msg.vehicleId with path segments, encodings, query strings, fragments, 1 MB strings and values of every type, on every node type', async (f, v) => {
    await f.load([accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }), ...everyNode(f, v)]);
    await f.authorize(ALL);
    const vin = f.sim.world.fleet.get(v.truck)?.spec.vin as string;
    // The flow sends it as msg.vehicleId itself: it may come back in its own messages, nowhere else.
    f.flowCarried.add(vin);
    const cases = targets().flatMap((target) => hostileVehicleIds(v.truck, v.phev, vin).map(([label, hostile]) => ({ target, label, hostile, msg: { ...target.base, vehicleId: hostile } })));
    await expectAllRefused(f, cases, 'vehicleId');
    expectNoPollution();
    // Nothing crashed: every node still does its job.
    const mark = f.rec.exchanges.length;
    helper.getNode('s1').receive({});
    helper.getNode('l1').receive({});
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'a status and a location after it all');
    expect(f.since(mark).filter(isApiExchange).map((x) => x.path)).to.have.members([`/api/fordconnect/v3/vehicles/${v.truck}`, `/api/fordconnect/v2/vehicles/${v.truck}/location`]);
  });

  secureIt('msg.payload of every JS type where it picks the action (ford-lock, ford-remote-start, ford-charge "from msg")', async (f, v) => {
    await f.load([accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }), ...everyNode(f, v)]);
    await f.authorize(ALL);
    const pick = targets().filter((t) => t.base.payload !== undefined);
    const cases = pick.flatMap((target) => hostilePayloads().map(([label, hostile]) => ({ target, label, hostile, msg: { ...target.base, payload: hostile } })));
    await expectAllRefused(f, cases, 'payload');
    expectNoPollution();
    expect(f.of('r1').out, 'no confirmation was asked for').to.deep.equal([]);
  });

  secureIt('msg.payload of every JS type on every node type, on an account that may not act: each refused, none crashes', async (f, v) => {
    await f.load([accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }), ...everyNode(f, v)]);
    // Never authorized.
    // Where the payload picks the action, a hostile one is refused for itself; elsewhere the account refuses.
    const cases = targets().flatMap((target) => hostilePayloads().map(([label, hostile]) => ({ target, label, hostile, msg: { ...target.base, payload: hostile } })));
    await expectAllRefused(f, cases, 'payload');
    expectNoPollution();
  });

  secureIt('where msg.payload means nothing (ford-status, ford-location, ford-charge schedules), a hostile one never reaches the wire and crashes nothing', async (f, v) => {
    await f.load([accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }), ...everyNode(f, v)]);
    await f.authorize(ALL);
    const mark = f.rec.exchanges.length;
    const payloads = hostilePayloads().filter(([label]) => !label.startsWith('a proxy'));
    for (const [, payload] of payloads) {
      helper.getNode('s1').receive({ payload });
      helper.getNode('l1').receive({ payload });
    }
    helper.getNode('c1').receive({ topic: 'schedules', payload: payloads.find(([l]) => l === '__proto__ JSON')?.[1] });
    await until(() => f.of('s1').out.length === payloads.length && f.of('l1').out.length === payloads.length && f.of('c1').out.length === 1, 'every read');
    const api = f.since(mark).filter(isApiExchange);
    // One shared read of each kind for them all, plus the schedules; no body, no payload in any URL.
    expect(api.map((x) => `${x.method} ${x.path}`).sort()).to.deep.equal(
      [`GET /api/fordconnect/v3/vehicles/${v.truck}`, `GET /api/fordconnect/v2/vehicles/${v.truck}/location`, `GET /api/fordconnect/v1/vehicles/${v.bev}/chargeSchedules`, `GET /api/fordconnect/v1/vehicles/${v.bev}/departureTimes`].sort(),
    );
    for (const x of api) {
      expect(x.url).to.equal(x.path);
      expect(x.body === undefined || Object.keys(x.body as object).length === 0).to.equal(true);
    }
    expect(f.errors('s1')).to.deep.equal([]);
    expect(f.errors('l1')).to.deep.equal([]);
    expectNoPollution();
  });
});

/** A vehicle API that answers every call with a hostile error: newlines and ANSI to forge log lines, bidi overrides, a huge message, the caller's own bearer token echoed back. */
async function startHostileApi(): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const huge = req.url?.includes('/location') ? 'y'.repeat(MB) : '';
    const body = JSON.stringify({ errorCode: '404', errorMessage: `no such vehicle\n1 Dec 21:00:00 - [error] [ford-lock:k1] forged line \u001b[31mred\u001b[0m \u202egnp.exe\u202c ${huge} (token ${bearer})` });
    res.writeHead(404, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describeSecurity('security: a hostile vehicle API cannot forge log lines or make the kit repeat its token', function () {
  this.timeout(30_000);

  secureIt('errors with newlines, ANSI, bidi overrides, 1 MB and the echoed bearer token end up short, on one line, without the token', async (f, v) => {
    const api = await startHostileApi();
    try {
      await f.load([
        accountNode(f.sim.url, ALL, { preset: 'custom', apiFlavour: 'fordconnect-v1', apiUrl: api.url, authorizeUrl: `${f.sim.url}/oauth2/v2.0/authorize`, tokenUrl: `${f.sim.url}/oauth2/v2.0/token`, revokeUrl: `${f.sim.url}/oauth2/v2.0/revoke`, auditFile: f.auditFileOf('acc') }),
        ...everyNode(f, v),
      ]);
      await f.authorize(ALL);
      for (const t of targets()) {
        const errors = f.errors(t.id).length;
        helper.getNode(t.id).receive({ ...t.base });
        await until(() => f.errors(t.id).length > errors || f.of(t.id).out.length > 0, `the answer of ${t.id}`);
      }
      // The confirmations asked for are answered, so the commands reach the API too.
      for (const id of ['r1']) {
        const pending = f.of(id).out.at(-1);
        if (pending?.confirm) helper.getNode(id).receive({ confirm: pending.confirm });
      }
      await realPause(100);
      for (const t of targets()) {
        for (const text of [...f.errors(t.id).map((e) => String(e instanceof Error ? e.message : e)), ...f.of(t.id).audit.map((r) => r.detail), ...f.statuses(t.id).map((s) => String(s.text ?? ''))]) {
          expect(CONTROL.test(text), `${t.id}: ${JSON.stringify(text.slice(0, 100))}`).to.equal(false);
          expect(text.length, `${t.id}: length`).to.be.below(2100);
        }
      }
      expect(f.errors('s1').length + f.errors('l1').length).to.be.greaterThan(1);
    } finally {
      await api.close();
    }
  });
});
