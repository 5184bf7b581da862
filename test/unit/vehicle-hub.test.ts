import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import { FordAccount } from '../../src/lib/account';
import { ApiError } from '../../src/lib/api/errors';
import { FordConnectV1Api } from '../../src/lib/api/fordconnect-v1';
import { HttpClient } from '../../src/lib/api/http-client';
import { FORD_APPLICATION_ID, type ApiFlavour } from '../../src/lib/api/presets';
import type { VehicleLocation, VehicleStatus } from '../../src/lib/api/status';
import type { ChargeSchedules } from '../../src/lib/api/schedules';
import type { CommandStateResult, LocationResult, StatusRefreshResult, StatusResult, VehicleApi, VehicleSummary } from '../../src/lib/api/vehicle-api';
import type { AuthState } from '../../src/lib/oauth/token-manager';
import { TokenStore } from '../../src/lib/oauth/token-store';
import {
  backoffDelayMs,
  RefreshTooSoonError,
  VehicleHub,
  VehicleHubs,
  type HubAccount,
  type HubOptions,
  type HubSubscriber,
  type HubWaiting,
  type LocationReading,
  type StatusReading,
} from '../../src/lib/vehicle-hub';
import type { RunningSimulator } from '../../src/sim';
import { mintToken, withSimulator } from '../helpers/sim';

const ID = '97da2849d73eb438a907d090402c802d';
const SEC = 1000;

// A FordAccount must fit where the hub wants an account (checked at compile time).
const _fits = (a: FordAccount): HubAccount => a;
void _fits;

type Answer<T> = T | ApiError | (() => T | ApiError);

/** A VehicleApi whose answers a test sets; each answer may take (fake) time. */
class FakeApi implements VehicleApi {
  flavour: ApiFlavour = 'fordconnect-v1';
  canRefresh = true;
  canCommand = false;
  calls = { status: 0, location: 0, refresh: 0, refreshResult: 0 };
  delayMs = 0;
  status: Answer<StatusResult> = () => ({ status: { vehicleId: ID, lock: 'locked', fuel: { level: 50 + this.calls.status } }, raw: { n: this.calls.status } });
  location: Answer<LocationResult> = () => ({ location: { latitude: 42 + this.calls.location / 1000, longitude: -83 }, raw: {} });
  refreshAnswer: Answer<string> = 'cmd-1';
  refreshResults: StatusRefreshResult['state'][] = ['pending', 'completed'];

  async listVehicles(): Promise<VehicleSummary[]> {
    return [];
  }

  private async answer<T>(a: Answer<T>): Promise<T> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const v = typeof a === 'function' ? (a as () => T | ApiError)() : a;
    if (v instanceof ApiError) throw v;
    return v;
  }

  getStatus(): Promise<StatusResult> {
    this.calls.status++;
    return this.answer(this.status);
  }

  getLocation(): Promise<LocationResult> {
    this.calls.location++;
    return this.answer(this.location);
  }

  requestStatusRefresh(): Promise<string> {
    this.calls.refresh++;
    return this.answer(this.refreshAnswer);
  }

  async statusRefreshResult(): Promise<StatusRefreshResult> {
    this.calls.refreshResult++;
    const state = this.refreshResults.shift() ?? 'completed';
    return state === 'completed' ? { state, lock: 'locked', raw: {} } : { state, raw: {} };
  }

  getChargeSchedules(): Promise<ChargeSchedules> {
    return Promise.reject(new ApiError('not-acceptable', 'the hub never reads schedules'));
  }

  sendCommand(): Promise<string> {
    return Promise.reject(new ApiError('not-acceptable', 'the hub never sends commands'));
  }

  commandState(): Promise<CommandStateResult> {
    return Promise.reject(new ApiError('not-acceptable', 'the hub never sends commands'));
  }
}

class FakeAccount extends EventEmitter implements HubAccount {
  constructor(
    readonly api: VehicleApi,
    public state: AuthState = 'authorized',
  ) {
    super();
  }

  vehicleApi(): VehicleApi {
    return this.api;
  }

  set(state: AuthState): void {
    this.state = state;
    this.emit('state', state);
  }
}

interface Recorder extends HubSubscriber {
  statuses: StatusReading[];
  locations: LocationReading[];
  errors: ApiError[];
  waits: HubWaiting[];
}

function recorder(wants: 'status' | 'location', intervalSeconds: number): Recorder {
  const r: Recorder = {
    wants,
    intervalSeconds,
    statuses: [],
    locations: [],
    errors: [],
    waits: [],
    onStatus: (s) => r.statuses.push(s),
    onLocation: (l) => r.locations.push(l),
    onError: (e) => r.errors.push(e),
    onWaiting: (w) => r.waits.push(w),
  };
  return r;
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(ApiError);
  return err as ApiError;
}

describe('lib/vehicle-hub (fake API, fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  let api: FakeApi;
  let account: FakeAccount;
  let hubs: VehicleHubs;
  const unsubscribes: (() => void)[] = [];

  const setup = (options: HubOptions = {}): void => {
    hubs = new VehicleHubs({ random: () => 0.5, ...options });
  };
  const sub = (r: HubSubscriber, id = ID, acct: HubAccount = account): (() => void) => {
    const off = hubs.subscribe(acct, id, r);
    unsubscribes.push(off);
    return off;
  };

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 10, 25, 8, 0, 0), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    api = new FakeApi();
    account = new FakeAccount(api);
    setup();
  });
  afterEach(() => {
    for (const off of unsubscribes.splice(0)) off();
    clock.restore();
  });

  it('coalesces 3 status and 2 location subscribers into one call of each per interval', async () => {
    const status = [recorder('status', 60), recorder('status', 30), recorder('status', 45)];
    const location = [recorder('location', 30), recorder('location', 120)];
    for (const r of [...status, ...location]) sub(r);
    await clock.tickAsync(0);
    expect(api.calls).to.include({ status: 1, location: 1 });
    for (const r of status) expect(r.statuses.map((s) => s.status.fuel?.level)).to.deep.equal([51]);
    for (const r of location) expect(r.locations).to.have.length(1);
    expect(status[0].locations).to.deep.equal([]);
    expect(location[0].statuses).to.deep.equal([]);

    await clock.tickAsync(30 * SEC);
    expect(api.calls).to.include({ status: 2, location: 2 });
    await clock.tickAsync(30 * SEC);
    expect(api.calls).to.include({ status: 3, location: 3 });
    for (const r of status) expect(r.statuses).to.have.length(3);
    // All subscribers get the very same reading.
    expect(status[0].statuses[2]).to.equal(status[1].statuses[2]);
  });

  it('polls at the shortest interval asked for, and slows down when that subscriber leaves', async () => {
    const slow = recorder('status', 120);
    const fast = recorder('status', 45);
    sub(slow);
    const offFast = sub(fast);
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(1);
    await clock.tickAsync(45 * SEC);
    expect(api.calls.status).to.equal(2);
    offFast();
    // Next poll is 120 s after the last one, not 45 s.
    await clock.tickAsync(119 * SEC);
    expect(api.calls.status).to.equal(2);
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(3);
    expect(api.calls.location).to.equal(0);
  });

  it('never polls below the minimum of the API (30 s v1, 60 s FordConnect Query, or as configured)', async () => {
    const r = recorder('status', 5);
    const off = sub(r);
    const hub = hubs.get(account, ID)!;
    expect(hub.effectiveIntervalSeconds('status')).to.equal(30);
    await clock.tickAsync(0);
    await clock.tickAsync(29 * SEC);
    expect(api.calls.status).to.equal(1);
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(2);
    off();

    const query = new FakeApi();
    query.flavour = 'fcon-query';
    const queryAccount = new FakeAccount(query);
    sub(recorder('status', 10), ID, queryAccount);
    expect(hubs.get(queryAccount, ID)!.effectiveIntervalSeconds('status')).to.equal(60);
    await clock.tickAsync(59 * SEC);
    expect(query.calls.status).to.equal(1);
    await clock.tickAsync(1 * SEC);
    expect(query.calls.status).to.equal(2);

    setup({ minIntervalSeconds: { 'fordconnect-v1': 120 } });
    sub(recorder('status', 30));
    expect(hubs.get(account, ID)!.effectiveIntervalSeconds('status')).to.equal(120);
  });

  it('does not poll for on-demand subscribers, and gives them nothing unasked', async () => {
    const onDemand = recorder('status', 0);
    sub(onDemand);
    await clock.tickAsync(3600 * SEC);
    expect(api.calls.status).to.equal(0);
    const reading = await hubs.read(account, ID, 'status', 60);
    expect(reading.status.vehicleId).to.equal(ID);
    expect(api.calls.status).to.equal(1);
    expect(onDemand.statuses).to.deep.equal([]);
    expect(clock.countTimers()).to.equal(0);
  });

  it('honours Retry-After: no call until it has passed, and tells every subscriber when polling resumes', async () => {
    const s = recorder('status', 30);
    const l = recorder('location', 30);
    sub(s);
    sub(l);
    api.status = new ApiError('rate-limited', 'slow down', 429, 120);
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(1);
    const until = Date.now() + 120 * SEC;
    for (const r of [s, l]) expect(r.waits).to.deep.include({ reason: 'rate-limited', until, seconds: 120, error: api.status });
    expect(s.errors).to.deep.equal([]);

    // Reads and refreshes are refused too, without a request.
    const refused = await rejection(hubs.read(account, ID, 'status', 0));
    expect([refused.kind, refused.retryAfterSeconds]).to.deep.equal(['rate-limited', 120]);
    expect((await rejection(hubs.refresh(account, ID))).kind).to.equal('rate-limited');
    expect(api.calls.refresh).to.equal(0);

    api.status = () => ({ status: { vehicleId: ID, lock: 'unlocked' }, raw: {} });
    await clock.tickAsync(119 * SEC);
    expect(api.calls.status).to.equal(1);
    expect(api.calls.location).to.equal(1);
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(2);
    expect(s.statuses.at(-1)?.status.lock).to.equal('unlocked');
  });

  it('backs off exponentially with jitter on 5xx and network errors, and resets on success', async () => {
    const s = recorder('status', 30);
    sub(s);
    api.status = new ApiError('server', 'HTTP 503', 503);
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(1);
    // random 0.5: 3/4 of interval × 2^failures → 45 s, 90 s, 180 s.
    await clock.tickAsync(44 * SEC);
    expect(api.calls.status).to.equal(1);
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(2);
    await clock.tickAsync(89 * SEC);
    expect(api.calls.status).to.equal(2);
    api.status = new ApiError('network', 'GET failed (ECONNREFUSED)');
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(3);
    await clock.tickAsync(180 * SEC);
    expect(api.calls.status).to.equal(4);
    expect(s.errors.map((e) => e.kind)).to.deep.equal(['server', 'server', 'network', 'network']);
    expect(s.waits.map((w) => [w.reason, w.seconds])).to.deep.equal([
      ['backoff', 45],
      ['backoff', 90],
      ['backoff', 180],
      ['backoff', 360],
    ]);

    api.status = () => ({ status: { vehicleId: ID, lock: 'locked' }, raw: {} });
    await clock.tickAsync(360 * SEC);
    expect(api.calls.status).to.equal(5);
    expect(s.statuses).to.have.length(1);
    // Back to the normal interval.
    await clock.tickAsync(30 * SEC);
    expect(api.calls.status).to.equal(6);
  });

  it('keeps the backoff within its jitter bounds and its cap', () => {
    const interval = 30 * SEC;
    const cap = 900 * SEC;
    for (let failures = 1; failures <= 12; failures++) {
      const full = Math.min(cap, interval * 2 ** failures);
      const low = backoffDelayMs(failures, interval, cap, () => 0);
      const high = backoffDelayMs(failures, interval, cap, () => 0.999999);
      expect(low, `failures ${failures}`).to.equal(Math.max(interval, full / 2));
      expect(high).to.be.closeTo(full, 1);
      for (let i = 0; i < 20; i++) expect(backoffDelayMs(failures, interval, cap, Math.random)).to.be.within(low, full);
    }
    // A cap below the interval never makes polling faster than the interval.
    expect(backoffDelayMs(3, 600 * SEC, 60 * SEC, () => 0)).to.equal(600 * SEC);
  });

  it('backs off only the kind that failed', async () => {
    const s = recorder('status', 30);
    const l = recorder('location', 30);
    sub(s);
    sub(l);
    api.location = new ApiError('scope', 'needs read:location', 403, undefined, 'read:location');
    await clock.tickAsync(0);
    await clock.tickAsync(30 * SEC);
    expect(api.calls.status).to.equal(2);
    expect(api.calls.location).to.equal(1);
    expect(l.errors.map((e) => e.kind)).to.deep.equal(['scope']);
    expect(s.errors).to.deep.equal([]);
    expect(s.waits).to.deep.equal([]);
    expect(l.waits.map((w) => w.reason)).to.deep.equal(['backoff']);
  });

  it('pauses while the account needs re-authorization and polls at once when it is authorized again', async () => {
    const s = recorder('status', 30);
    const onDemand = recorder('location', 0);
    sub(s);
    sub(onDemand);
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(1);

    account.set('reauth-needed');
    expect(s.waits).to.deep.equal([{ reason: 'reauth' }]);
    expect(onDemand.waits).to.deep.equal([{ reason: 'reauth' }]);
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(3600 * SEC);
    expect(api.calls.status).to.equal(1);
    expect((await rejection(hubs.read(account, ID, 'status', 0))).kind).to.equal('reauth');
    expect((await rejection(hubs.refresh(account, ID))).kind).to.equal('reauth');
    expect(api.calls).to.include({ status: 1, location: 0, refresh: 0 });

    // A node deployed meanwhile hears about the pause at once.
    const late = recorder('status', 30);
    sub(late);
    await clock.tickAsync(0);
    expect(late.waits).to.deep.equal([{ reason: 'reauth' }]);

    account.set('authorized');
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(2);
    expect(s.statuses).to.have.length(2);
    await clock.tickAsync(30 * SEC);
    expect(api.calls.status).to.equal(3);
  });

  it('pauses on a re-authorization error from the API until the account is authorized', async () => {
    const s = recorder('status', 30);
    account.state = 'authorized';
    sub(s);
    api.status = new ApiError('reauth', 'invalid_grant');
    await clock.tickAsync(0);
    await clock.tickAsync(600 * SEC);
    expect(api.calls.status).to.equal(1);
    expect(s.waits).to.deep.equal([{ reason: 'reauth', error: api.status }]);
    api.status = () => ({ status: { vehicleId: ID, lock: 'locked' }, raw: {} });
    account.set('authorized');
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(2);
  });

  it('starts paused for an account that is not authorized yet', async () => {
    account.state = 'unauthorized';
    sub(recorder('status', 30));
    await clock.tickAsync(600 * SEC);
    expect(api.calls.status).to.equal(0);
    account.set('authorized');
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(1);
  });

  it('answers reads from the cache while it is fresh enough', async () => {
    sub(recorder('status', 0));
    const first = await hubs.read(account, ID, 'status', 60);
    await clock.tickAsync(60 * SEC);
    const cached = await hubs.read(account, ID, 'status', 60);
    expect(cached).to.equal(first);
    expect(api.calls.status).to.equal(1);
    await clock.tickAsync(1);
    const fresh = await hubs.read(account, ID, 'status', 60);
    expect(fresh).to.not.equal(first);
    expect(fresh.fetchedAt).to.equal(Date.now());
    expect(api.calls.status).to.equal(2);
    // maxAge 0: always a new request.
    await hubs.read(account, ID, 'status', 0);
    expect(api.calls.status).to.equal(3);
  });

  it('coalesces concurrent reads, and reads during a poll, into one request', async () => {
    api.delayMs = 2 * SEC;
    const s = recorder('status', 30);
    sub(s);
    await clock.tickAsync(0);
    // The poll is in flight: reads join it.
    const reads = [hubs.read(account, ID, 'status', 0), hubs.read(account, ID, 'status', 0), hubs.read(account, ID, 'status', 0)];
    await clock.tickAsync(2 * SEC);
    const results = await Promise.all(reads);
    expect(api.calls.status).to.equal(1);
    expect(results[0]).to.equal(results[1]);
    expect(results[0]).to.equal(s.statuses[0]);

    const more = [hubs.read(account, ID, 'location', 0), hubs.read(account, ID, 'location', 0)];
    await clock.tickAsync(2 * SEC);
    const locations = await Promise.all(more);
    expect(api.calls.location).to.equal(1);
    expect(locations[0]).to.equal(locations[1]);
  });

  it('gives a fresh read to polling subscribers and restarts their interval', async () => {
    const s = recorder('status', 60);
    sub(s);
    await clock.tickAsync(0);
    await clock.tickAsync(40 * SEC);
    await hubs.read(account, ID, 'status', 0);
    expect(s.statuses).to.have.length(2);
    await clock.tickAsync(59 * SEC);
    expect(api.calls.status).to.equal(2);
    await clock.tickAsync(1 * SEC);
    expect(api.calls.status).to.equal(3);
  });

  it('does not back polling off, nor report to every node, when a manual read fails', async () => {
    const s = recorder('status', 30);
    sub(s);
    await clock.tickAsync(0);
    api.status = new ApiError('server', 'HTTP 500', 500);
    expect((await rejection(hubs.read(account, ID, 'status', 0))).kind).to.equal('server');
    expect(s.errors).to.deep.equal([]);
    api.status = () => ({ status: { vehicleId: ID, lock: 'locked' }, raw: {} });
    await clock.tickAsync(30 * SEC);
    expect(api.calls.status).to.equal(3);
  });

  it('hands a newcomer the cached reading at once when it is fresh', async () => {
    sub(recorder('status', 60));
    await clock.tickAsync(0);
    await clock.tickAsync(20 * SEC);
    const late = recorder('status', 60);
    sub(late);
    await clock.tickAsync(0);
    expect(late.statuses).to.have.length(1);
    expect(api.calls.status).to.equal(1);
  });

  it('refreshes, waits for the vehicle, then reads the fresh status for everyone', async () => {
    setup({ refreshPollSeconds: 2 });
    const s = recorder('status', 300);
    sub(s);
    await clock.tickAsync(0);
    const outcome = hubs.refresh(account, ID);
    // A second refresh meanwhile shares the first.
    const same = hubs.refresh(account, ID);
    await clock.tickAsync(4 * SEC);
    const result = await outcome;
    expect(await same).to.equal(result);
    expect(result.outcome).to.equal('completed');
    expect(result.commandId).to.equal('cmd-1');
    expect(result.result?.lock).to.equal('locked');
    expect(result.status?.status.vehicleId).to.equal(ID);
    expect(api.calls).to.include({ refresh: 1, refreshResult: 2, status: 2 });
    expect(s.statuses).to.have.length(2);
  });

  it('guards refreshes with their own minimum interval and says when the next is allowed', async () => {
    setup({ refreshPollSeconds: 1 });
    sub(recorder('status', 0));
    api.refreshResults = ['completed'];
    const first = hubs.refresh(account, ID);
    await clock.tickAsync(1 * SEC);
    await first;
    const startedAt = Date.now() - 1 * SEC;

    await clock.tickAsync(60 * SEC);
    const err = await rejection(hubs.refresh(account, ID));
    expect(err).to.be.instanceOf(RefreshTooSoonError);
    expect(err.kind).to.equal('rate-limited');
    expect((err as RefreshTooSoonError).allowedAt).to.equal(startedAt + 300 * SEC);
    expect(err.retryAfterSeconds).to.equal(239);
    expect(err.message).to.include(new Date(startedAt + 300 * SEC).toISOString());
    expect(err.message).to.include('12 V battery');
    expect(api.calls.refresh).to.equal(1);
    expect(hubs.get(account, ID)!.refreshAllowedAt()).to.equal(startedAt + 300 * SEC);

    await clock.tickAsync(239 * SEC);
    api.refreshResults = ['completed'];
    const second = hubs.refresh(account, ID);
    await clock.tickAsync(1 * SEC);
    expect((await second).outcome).to.equal('completed');
    expect(api.calls.refresh).to.equal(2);
  });

  it('does not spend the refresh allowance when the request itself failed, and reports timeouts and failures', async () => {
    setup({ refreshPollSeconds: 5, refreshTimeoutSeconds: 20 });
    sub(recorder('status', 0));
    api.refreshAnswer = new ApiError('server', 'HTTP 502', 502);
    expect((await rejection(hubs.refresh(account, ID))).kind).to.equal('server');

    api.refreshAnswer = 'cmd-2';
    api.refreshResults = ['pending', 'pending', 'pending', 'pending', 'pending'];
    const timedOut = hubs.refresh(account, ID);
    await clock.tickAsync(20 * SEC);
    expect((await timedOut).outcome).to.equal('timeout');
    expect(api.calls.refreshResult).to.equal(4);
    expect(api.calls.status).to.equal(0);

    await clock.tickAsync(300 * SEC);
    api.refreshResults = ['failed'];
    const failed = hubs.refresh(account, ID);
    await clock.tickAsync(5 * SEC);
    expect((await failed).outcome).to.equal('failed');
  });

  it('leaves no timer, listener or registry entry behind after the last unsubscribe', async () => {
    setup({ refreshPollSeconds: 5 });
    const a = sub(recorder('status', 30));
    const b = sub(recorder('location', 45));
    await clock.tickAsync(0);
    const refresh = hubs.refresh(account, ID);
    expect(clock.countTimers()).to.be.greaterThan(0);
    expect(hubs.count(account)).to.equal(1);
    a();
    expect(clock.countTimers()).to.be.greaterThan(0);
    b();
    b();
    expect(clock.countTimers()).to.equal(0);
    expect(account.listenerCount('state')).to.equal(0);
    expect(hubs.count(account)).to.equal(0);
    expect(hubs.get(account, ID)).to.equal(undefined);
    expect((await rejection(refresh)).message).to.match(/cancelled/);
    await clock.tickAsync(3600 * SEC);
    expect(api.calls.status).to.equal(1);

    // A new subscriber gets a new hub that polls afresh.
    sub(recorder('status', 30));
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(2);
  });

  it('drops a hub that was only read once the read is done', async () => {
    const other = '0123456789abcdef0123456789abcdef';
    await hubs.read(account, other, 'status', 0);
    expect(hubs.get(account, other)).to.equal(undefined);
    expect(account.listenerCount('state')).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
  });

  it('keeps one hub per account object and vehicle, whatever the id case', () => {
    sub(recorder('status', 0));
    sub(recorder('status', 0), ID.toUpperCase());
    expect(hubs.count(account)).to.equal(1);
    expect(hubs.get(account, ID)!.subscriberCount).to.equal(2);
    const another = new FakeAccount(new FakeApi());
    sub(recorder('status', 0), ID, another);
    expect(hubs.get(another, ID)).to.not.equal(hubs.get(account, ID));
  });

  it('listens to an account once, however many of its vehicles have hubs', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => i.toString(16).padStart(32, 'a'));
    const offs = ids.map((id) => sub(recorder('status', 30), id));
    expect(hubs.count(account)).to.equal(12);
    expect(account.listenerCount('state')).to.equal(1);
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(12);
    account.set('reauth-needed');
    await clock.tickAsync(300 * SEC);
    expect(api.calls.status).to.equal(12);
    account.set('authorized');
    await clock.tickAsync(0);
    expect(api.calls.status).to.equal(24);
    for (const off of offs) off();
    expect(account.listenerCount('state')).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
  });

  it('works as a hub of its own, outside a registry', async () => {
    const hub = new VehicleHub(account, ID, { random: () => 0.5 });
    expect(account.listenerCount('state')).to.equal(1);
    const r = recorder('status', 30);
    const off = hub.subscribe(r);
    await clock.tickAsync(0);
    expect(r.statuses).to.have.length(1);
    off();
    expect(hub.isClosed).to.equal(true);
    expect(account.listenerCount('state')).to.equal(0);
    expect(() => hub.subscribe(r)).to.throw(/closed/);
  });

  it('refuses malformed vehicle ids and subscribers before anything starts', async () => {
    expect(() => hubs.subscribe(account, '../x', recorder('status', 30))).to.throw(ApiError).with.property('kind', 'bad-request');
    expect((await rejection(hubs.read(account, 'x?y=1', 'status', 0))).kind).to.equal('bad-request');
    expect((await rejection(hubs.refresh(account, 'x'.repeat(1000)))).kind).to.equal('bad-request');
    expect(() => hubs.subscribe(account, ID, recorder('status', -1))).to.throw(RangeError);
    expect(() => hubs.subscribe(account, ID, { ...recorder('status', 30), intervalSeconds: NaN })).to.throw(RangeError);
    expect(() => hubs.subscribe(account, ID, { ...recorder('status', 30), wants: 'vin' as 'status' })).to.throw(TypeError);
    // Nothing was left behind, and nothing polls.
    expect(hubs.count(account)).to.equal(0);
    expect(account.listenerCount('state')).to.equal(0);
    await clock.tickAsync(600 * SEC);
    expect(api.calls.status).to.equal(0);
  });

  it('calls a class-based subscriber as itself, and takes the same object twice as two subscriptions', async () => {
    class Node implements HubSubscriber {
      readonly wants = 'status' as const;
      readonly intervalSeconds = 30;
      seen = 0;
      onStatus(): void {
        this.seen++;
      }
    }
    const node = new Node();
    const first = sub(node);
    sub(node);
    await clock.tickAsync(0);
    expect(node.seen).to.equal(2);
    first();
    await clock.tickAsync(30 * SEC);
    expect(node.seen).to.equal(3);
  });

  it('keeps delivering to the others when one subscriber throws', async () => {
    const thrower: HubSubscriber = {
      wants: 'status',
      intervalSeconds: 30,
      onStatus: () => {
        throw new Error('boom');
      },
    };
    const fine = recorder('status', 30);
    sub(thrower);
    sub(fine);
    await clock.tickAsync(0);
    expect(fine.statuses).to.have.length(1);
  });
});

describe('lib/vehicle-hub against the simulator (fake timers, real HTTP)', () => {
  let sim: RunningSimulator;
  let clock: sinon.SinonFakeTimers | undefined;

  before(async () => {
    sim = await withSimulator();
  });
  after(() => sim.close());
  afterEach(() => clock?.restore());

  /** Real HTTP needs real turns of the event loop: wait on them (setImmediate is not faked). */
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 5000; i++) {
      if (check()) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('costs one vehicle-information call and one location call per interval for 3 status + 2 location subscribers', async () => {
    const vehicleId = sim.world.fleet.ownedBy('owner-1')[0].id;
    const { token } = mintToken(sim, 'owner-1', ['read:status', 'read:location'], { lifetimeSeconds: 365 * 24 * 3600 });
    const http = new HttpClient({ baseUrl: `${sim.url}/api/fordconnect`, tokens: { getAccessToken: async () => token, tokenAfterRejection: async () => token }, headers: { 'Application-Id': FORD_APPLICATION_ID } });
    const account = new FakeAccount(new FordConnectV1Api(http));
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const hubs = new VehicleHubs();
    const statuses: VehicleStatus[] = [];
    const locations: VehicleLocation[] = [];
    const offs = [
      ...[30, 60, 90].map((s) => hubs.subscribe(account, vehicleId, { wants: 'status', intervalSeconds: s, onStatus: (r) => statuses.push(r.status) })),
      ...[30, 300].map((s) => hubs.subscribe(account, vehicleId, { wants: 'location', intervalSeconds: s, onLocation: (r) => locations.push(r.location) })),
    ];
    const info = (): number => sim.world.counts.get('api.vehicle.info');
    const loc = (): number => sim.world.counts.get('api.vehicle.location');
    const info0 = info();
    const loc0 = loc();

    await clock.tickAsync(0);
    await until(() => statuses.length === 3 && locations.length === 2, 'the first poll');
    expect([info() - info0, loc() - loc0]).to.deep.equal([1, 1]);
    expect(statuses[0].vehicleId).to.equal(vehicleId);
    expect(locations[0].latitude).to.be.a('number');

    for (let round = 2; round <= 3; round++) {
      await clock.tickAsync(30 * SEC);
      await until(() => statuses.length === 3 * round && locations.length === 2 * round, `poll ${round}`);
      expect([info() - info0, loc() - loc0]).to.deep.equal([round, round]);
    }

    for (const off of offs) off();
    expect(clock.countTimers()).to.equal(0);
    expect(hubs.count(account)).to.equal(0);
  });

  it('pauses when the owner revokes the app and resumes at once after re-authorization (a real FordAccount)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ford-hub-'));
    const client = sim.world.options.demoClient;
    const vehicleId = sim.world.fleet.ownedBy('owner-1')[0].id;
    const store = new TokenStore(dir, 'acct-hub');
    const authorize = (): string => {
      const grant = sim.world.store.createGrant('owner-1', client.id, ['read:status'], [vehicleId]);
      const access = sim.world.store.issueAccessToken(grant, ['read:status']);
      const refresh = sim.world.store.issueRefreshToken(grant, ['read:status']);
      store.save({ accessToken: access.token, tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000, refreshToken: refresh.token, grantedScopes: ['read:status'], authorizedAt: Date.now() });
      return grant.id;
    };
    const grantId = authorize();
    const account = new FordAccount(
      { id: 'acct-hub', preset: 'simulator', grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/cb', scopes: ['read:status'], clientId: client.id, clientSecret: client.secret },
      { tokenDir: dir, simulatorUrl: sim.url },
    );
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const hubs = new VehicleHubs();
    const r = recorder('status', 30);
    const off = hubs.subscribe(account, vehicleId, r);
    const info = (): number => sim.world.counts.get('api.vehicle.info');
    const info0 = info();

    await clock.tickAsync(0);
    await until(() => r.statuses.length === 1, 'the first poll');

    sim.world.store.revokeGrant(grantId, 'owner disconnected the app');
    await clock.tickAsync(30 * SEC);
    await until(() => r.waits.length === 1, 'the pause');
    expect(account.state).to.equal('reauth-needed');
    expect(r.waits[0].reason).to.equal('reauth');
    expect(r.errors).to.deep.equal([]);
    const paused = info();
    expect(paused - info0).to.equal(2);
    await clock.tickAsync(600 * SEC);
    expect(info()).to.equal(paused);
    expect(clock.countTimers()).to.equal(0);

    authorize();
    account.reloadTokens();
    expect(account.state).to.equal('authorized');
    await clock.tickAsync(0);
    await until(() => r.statuses.length === 2, 'the poll after re-authorization');
    expect(info()).to.equal(paused + 1);
    off();
    rmSync(dir, { recursive: true, force: true });
  });
});
