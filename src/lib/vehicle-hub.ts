import { ApiError } from './api/errors';
import type { ApiFlavour } from './api/presets';
import type { VehicleLocation, VehicleStatus } from './api/status';
import { assertVehicleId, type StatusRefreshResult, type VehicleApi } from './api/vehicle-api';
import type { AuthState } from './oauth/token-manager';

/**
 * One hub per (account, vehicle): the shared cache and poll schedule behind
 * every `ford-status` and `ford-location` node on that vehicle, so any
 * number of nodes cost one API call per kind and interval — the way
 * Node-RED's mqtt-broker shares one connection between its client nodes.
 *
 * - Polls each kind (status, location) at the shortest interval its polling
 *   subscribers ask for, never below a minimum per API (see {@link HubOptions}).
 *   Location is fetched only while some subscriber wants location.
 * - 429: polling pauses until Retry-After has passed (subscribers hear
 *   `onWaiting`). Other failures: exponential backoff with jitter, capped,
 *   reset by the next success.
 * - Pauses entirely while the account is not authorized (re-authorization
 *   needed) and polls at once when it is authorized again.
 * - The last unsubscribe stops every timer and drops the hub from its registry.
 */

export type HubKind = 'status' | 'location';

/** What the hub needs of an account: a FordAccount is one, a test passes a fake. */
export interface HubAccount {
  vehicleApi(): VehicleApi;
  readonly state: AuthState;
  on(event: 'state', listener: (state: AuthState) => void): unknown;
  off(event: 'state', listener: (state: AuthState) => void): unknown;
}

/** Time, injectable; the default uses the global timers at call time, so sinon fake timers drive it. */
export interface HubClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: HubClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface HubOptions {
  /**
   * Floor for every poll interval, per API, seconds. A faster poll is raised
   * to it. Defaults: FordConnect v1 30 s (Ford answered faster polling with
   * 429s and temporary bans, and each read may wake the modem of a parked
   * vehicle, which drains its 12 V battery); FordConnect Query 60 s (Ford
   * publishes no rate limit: 60 s is the advice of the clients that work today).
   */
  minIntervalSeconds?: Partial<Record<ApiFlavour, number>>;
  /** Floor between two status refreshes (each wakes the modem and costs 12 V battery), seconds. Default 300. */
  minRefreshSeconds?: number;
  /** How long `refresh()` waits for the vehicle to answer, seconds. Default 60 (Ford's command ids expire after about 2 minutes). */
  refreshTimeoutSeconds?: number;
  /** How often `refresh()` asks whether the vehicle has answered, seconds. Default 3. */
  refreshPollSeconds?: number;
  /** Cap of the error backoff, seconds. Default 900. */
  backoffMaxSeconds?: number;
  /** Used when a 429 carries no Retry-After, seconds. Default 60. */
  defaultRetryAfterSeconds?: number;
  clock?: HubClock;
  /** For the backoff jitter; [0, 1). Default Math.random. */
  random?: () => number;
}

export const DEFAULT_MIN_INTERVAL_SECONDS: Readonly<Record<ApiFlavour, number>> = { 'fordconnect-v1': 30, 'fcon-query': 60 };
export const DEFAULT_MIN_REFRESH_SECONDS = 300;

export interface StatusReading {
  status: VehicleStatus;
  raw: unknown;
  /** When the hub received it (ms since the epoch, hub clock). */
  fetchedAt: number;
}

export interface LocationReading {
  location: VehicleLocation;
  raw: unknown;
  fetchedAt: number;
}

export type HubReading<K extends HubKind> = K extends 'status' ? StatusReading : LocationReading;

/** Why polling is paused, and until when. */
export interface HubWaiting {
  /** `rate-limited`: a 429's Retry-After; `backoff`: after errors; `reauth`: until the owner authorizes again. */
  reason: 'rate-limited' | 'backoff' | 'reauth';
  /** When polling resumes (ms since the epoch, hub clock); absent for `reauth`. */
  until?: number;
  /** Seconds from now until `until`. */
  seconds?: number;
  /** The error that caused the pause, if one did. */
  error?: ApiError;
}

export interface HubSubscriber {
  /** The kind this subscriber receives. */
  wants: HubKind;
  /** Poll interval in seconds; 0 = only on demand (`read`), no unsolicited readings. */
  intervalSeconds: number;
  /** Each polled (or freshly read) status, for `wants: 'status'` with an interval. */
  onStatus?(reading: StatusReading): void;
  /** Each polled (or freshly read) location, for `wants: 'location'` with an interval. */
  onLocation?(reading: LocationReading): void;
  /** A failed poll of the kind this subscriber wants (not 429 and not re-authorization: those are `onWaiting`). */
  onError?(error: ApiError, kind: HubKind): void;
  /** Polling paused (every subscriber hears it): rate limit, backoff after an error, or re-authorization needed. */
  onWaiting?(waiting: HubWaiting): void;
}

export interface RefreshOutcome {
  commandId: string;
  /** `completed`: the vehicle reported and `status` is the fresh status; `failed`: the vehicle refused; `timeout`: no answer in time. */
  outcome: 'completed' | 'failed' | 'timeout';
  /** The last answer to the refresh (lock and alarm as reported). */
  result?: StatusRefreshResult;
  /** The status read after a completed refresh (also delivered to polling subscribers). */
  status?: StatusReading;
}

/** A refresh asked for before the minimum interval has passed; no request was made. */
export class RefreshTooSoonError extends ApiError {
  constructor(
    readonly allowedAt: number,
    now: number,
  ) {
    const seconds = Math.max(1, Math.ceil((allowedAt - now) / 1000));
    super('rate-limited', `a status refresh wakes the vehicle's modem and costs 12 V battery: the next one is allowed at ${new Date(allowedAt).toISOString()} (in ${describeSeconds(seconds)})`, undefined, seconds);
    this.name = 'RefreshTooSoonError';
  }
}

function describeSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

/**
 * Backoff after `failures` consecutive failed polls: `interval × 2^failures`
 * capped at `capMs`, with equal jitter (between half and all of it), and
 * never sooner than the normal interval.
 */
export function backoffDelayMs(failures: number, intervalMs: number, capMs: number, random: () => number): number {
  const full = Math.min(Math.max(capMs, intervalMs), intervalMs * 2 ** Math.max(1, failures));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(intervalMs, Math.round(full / 2 + (r * full) / 2));
}

function waitingFor(reason: 'rate-limited' | 'backoff', until: number, now: number, error?: ApiError): HubWaiting {
  const out: HubWaiting = { reason, until, seconds: Math.max(0, Math.ceil((until - now) / 1000)) };
  if (error) out.error = error;
  return out;
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('bad-response', err instanceof Error ? err.message : String(err));
}

const KINDS: readonly HubKind[] = ['status', 'location'];

/** A subscription: the subscriber as given (its methods keep their `this`), with what it asked for fixed at subscribe time. */
interface Entry {
  sub: HubSubscriber;
  wants: HubKind;
  intervalSeconds: number;
}

interface InFlight {
  promise: Promise<StatusReading | LocationReading>;
  origin: 'poll' | 'read';
}

export class VehicleHub {
  private readonly clock: HubClock;
  private readonly random: () => number;
  private readonly subscribers = new Set<Entry>();
  private readonly cache: { status?: StatusReading; location?: LocationReading } = {};
  /** When each kind was last polled (or fetched), for its next due time. */
  private readonly lastPolled: Partial<Record<HubKind, number>> = {};
  private readonly inFlight: Partial<Record<HubKind, InFlight>> = {};
  private pollTimer?: { handle: unknown };
  /** One-off timers (deliveries to newcomers, refresh waits), cleared on close. */
  private readonly timers = new Map<unknown, () => void>();
  /** A 429's Retry-After: pauses every kind, and reads and refreshes too. */
  private rateLimit?: { until: number; error?: ApiError };
  /** Backoff after failed polls, per kind (a location failure must not slow status down). */
  private readonly backoff: Partial<Record<HubKind, { failures: number; until: number; error: ApiError }>> = {};
  private reauthPaused: boolean;
  private refreshing?: Promise<RefreshOutcome>;
  private lastRefreshAt?: number;
  private closed = false;
  private readonly onAccountState = (state: AuthState): void => this.accountStateChanged(state);

  /**
   * A hub on its own listens to the account itself; the registry passes
   * `registry` instead and forwards the account's `state` with one listener
   * per account (a fleet account must not collect one listener per vehicle).
   */
  constructor(
    private readonly account: HubAccount,
    readonly vehicleId: string,
    private readonly options: HubOptions = {},
    private readonly registry?: { onClose(hub: VehicleHub): void },
  ) {
    assertVehicleId(vehicleId);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.reauthPaused = account.state !== 'authorized';
    if (!registry) account.on('state', this.onAccountState);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** The floor of every poll interval for this account's API, seconds. */
  minIntervalSeconds(): number {
    const flavour = this.account.vehicleApi().flavour;
    return this.options.minIntervalSeconds?.[flavour] ?? DEFAULT_MIN_INTERVAL_SECONDS[flavour];
  }

  /** The interval the hub polls `kind` at now, seconds; undefined when no subscriber polls it. */
  effectiveIntervalSeconds(kind: HubKind): number | undefined {
    let shortest: number | undefined;
    for (const s of this.subscribers) {
      if (s.wants === kind && s.intervalSeconds > 0) shortest = shortest === undefined ? s.intervalSeconds : Math.min(shortest, s.intervalSeconds);
    }
    return shortest === undefined ? undefined : Math.max(shortest, this.minIntervalSeconds());
  }

  /** Why polling (of `kind`, or of anything) is paused now, if it is. */
  waitingState(kind?: HubKind): HubWaiting | undefined {
    if (this.reauthPaused) return { reason: 'reauth' };
    const now = this.clock.now();
    if (this.rateLimit && this.rateLimit.until > now) return waitingFor('rate-limited', this.rateLimit.until, now, this.rateLimit.error);
    for (const k of kind ? [kind] : KINDS) {
      const b = this.backoff[k];
      if (b && b.until > now) return waitingFor('backoff', b.until, now, b.error);
    }
    return undefined;
  }

  /** The last reading of a kind, however old (undefined before the first). */
  cached<K extends HubKind>(kind: K): HubReading<K> | undefined {
    return this.cache[kind] as HubReading<K> | undefined;
  }

  /**
   * Adds a subscriber; returns its unsubscribe (idempotent). A polling
   * newcomer gets the cached reading at once when it is younger than the
   * poll interval, and hears `onWaiting` at once while polling is paused.
   */
  subscribe(subscriber: HubSubscriber): () => void {
    if (this.closed) throw new Error('this vehicle hub is closed; get a new one from the registry');
    if (subscriber.wants !== 'status' && subscriber.wants !== 'location') throw new TypeError("wants must be 'status' or 'location'");
    if (typeof subscriber.intervalSeconds !== 'number' || !Number.isFinite(subscriber.intervalSeconds) || subscriber.intervalSeconds < 0) {
      throw new RangeError('intervalSeconds must be a number of seconds, 0 or more (0 = only on demand)');
    }
    const entry: Entry = { sub: subscriber, wants: subscriber.wants, intervalSeconds: subscriber.intervalSeconds };
    this.subscribers.add(entry);
    this.later(0, () => this.greet(entry));
    this.schedule();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers.delete(entry);
      if (this.subscribers.size === 0) this.close();
      else this.schedule();
    };
  }

  /**
   * The cached reading when it is at most `maxAgeSeconds` (> 0) old, else a fresh
   * one (concurrent reads share one request; a fresh reading also reaches the
   * polling subscribers and restarts their interval). Refused without a
   * request while a Retry-After lasts or re-authorization is needed.
   */
  read<K extends HubKind>(kind: K, maxAgeSeconds = 0): Promise<HubReading<K>> {
    const now = this.clock.now();
    const maxAge = Number.isFinite(maxAgeSeconds) && maxAgeSeconds > 0 ? maxAgeSeconds * 1000 : 0;
    const cached = this.cache[kind];
    // 0 means "fresh from the API", even if a reading arrived this very millisecond.
    if (cached && maxAge > 0 && now - cached.fetchedAt <= maxAge) return Promise.resolve(cached as HubReading<K>);
    const refusal = this.refusal(now);
    if (refusal) {
      this.closeIfIdle();
      return Promise.reject(refusal);
    }
    const result = this.fetch(kind, 'read') as Promise<HubReading<K>>;
    return result.finally(() => this.closeIfIdle());
  }

  /**
   * Asks the vehicle to report afresh, waits for its answer, then reads the
   * status (FordConnect v1 only). At most one per `minRefreshSeconds`: sooner
   * is a {@link RefreshTooSoonError} (kind `rate-limited`) naming when it is
   * allowed. A refresh already under way is shared.
   */
  refresh(): Promise<RefreshOutcome> {
    if (this.refreshing) return this.refreshing;
    const now = this.clock.now();
    const min = (this.options.minRefreshSeconds ?? DEFAULT_MIN_REFRESH_SECONDS) * 1000;
    const refusal = this.refusal(now) ?? (this.lastRefreshAt !== undefined && now < this.lastRefreshAt + min ? new RefreshTooSoonError(this.lastRefreshAt + min, now) : undefined);
    if (refusal) {
      this.closeIfIdle();
      return Promise.reject(refusal);
    }
    const run = this.runRefresh().finally(() => {
      this.refreshing = undefined;
      this.closeIfIdle();
    });
    this.refreshing = run;
    return run;
  }

  /** When the next refresh is allowed (ms since the epoch), or undefined if now. */
  refreshAllowedAt(): number | undefined {
    if (this.lastRefreshAt === undefined) return undefined;
    const at = this.lastRefreshAt + (this.options.minRefreshSeconds ?? DEFAULT_MIN_REFRESH_SECONDS) * 1000;
    return at > this.clock.now() ? at : undefined;
  }

  /** Stops every timer, forgets the account listener and leaves the registry. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscribers.clear();
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer.handle);
    this.pollTimer = undefined;
    for (const [handle, cancel] of this.timers) {
      this.clock.clearTimeout(handle);
      cancel();
    }
    this.timers.clear();
    if (this.registry) this.registry.onClose(this);
    else this.account.off('state', this.onAccountState);
  }

  // -------------------------------------------------------------------------

  private refusal(now: number): ApiError | undefined {
    if (this.reauthPaused) return new ApiError('reauth', 'the account needs to be authorized again before the vehicle can be read');
    if (this.rateLimit && this.rateLimit.until > now) {
      const seconds = Math.max(1, Math.ceil((this.rateLimit.until - now) / 1000));
      return new ApiError('rate-limited', `rate limited by the API: calls resume at ${new Date(this.rateLimit.until).toISOString()} (in ${describeSeconds(seconds)})`, undefined, seconds);
    }
    return undefined;
  }

  /** A timer that `close` clears; `cancel` runs if it is cleared before it fires. */
  private later(ms: number, fn: () => void, cancel: () => void = () => undefined): void {
    if (this.closed) {
      cancel();
      return;
    }
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.set(handle, cancel);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => this.later(ms, resolve, () => reject(new ApiError('network', 'cancelled: the last node on this vehicle closed'))));
  }

  /** What a newcomer should know at once: a pause, or a fresh enough reading. */
  private greet(sub: Entry): void {
    if (!this.subscribers.has(sub)) return;
    const waiting = this.waitingState(sub.wants);
    if (waiting) {
      this.call(() => sub.sub.onWaiting?.(waiting));
      return;
    }
    if (sub.intervalSeconds <= 0) return;
    const reading = this.cache[sub.wants];
    const interval = this.effectiveIntervalSeconds(sub.wants);
    if (reading && interval !== undefined && this.clock.now() - reading.fetchedAt < interval * 1000) this.deliver(sub, sub.wants, reading);
  }

  private pollIntervalMs(kind: HubKind): number | undefined {
    const s = this.effectiveIntervalSeconds(kind);
    return s === undefined ? undefined : s * 1000;
  }

  private dueAt(kind: HubKind, intervalMs: number, now: number): number {
    const last = this.lastPolled[kind];
    const due = last === undefined ? now : last + intervalMs;
    return Math.max(due, this.rateLimit?.until ?? 0, this.backoff[kind]?.until ?? 0);
  }

  /** One timer, for the earliest due poll; none while paused, closed or with nothing to poll. */
  private schedule(): void {
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer.handle);
    this.pollTimer = undefined;
    if (this.closed || this.reauthPaused) return;
    const now = this.clock.now();
    let next: number | undefined;
    for (const kind of KINDS) {
      const interval = this.pollIntervalMs(kind);
      if (interval === undefined || this.inFlight[kind]) continue;
      const due = this.dueAt(kind, interval, now);
      next = next === undefined ? due : Math.min(next, due);
    }
    if (next === undefined) return;
    const timer: { handle: unknown } = { handle: undefined };
    timer.handle = this.clock.setTimeout(() => {
      if (this.pollTimer === timer) this.pollTimer = undefined;
      this.tick();
    }, Math.max(0, next - now));
    this.pollTimer = timer;
  }

  private tick(): void {
    if (this.closed || this.reauthPaused) return;
    const now = this.clock.now();
    for (const kind of KINDS) {
      const interval = this.pollIntervalMs(kind);
      if (interval === undefined || this.inFlight[kind]) continue;
      if (this.dueAt(kind, interval, now) <= now) this.fetch(kind, 'poll').catch(() => undefined);
    }
    this.schedule();
  }

  private fetch(kind: HubKind, origin: 'poll' | 'read'): Promise<StatusReading | LocationReading> {
    const existing = this.inFlight[kind];
    if (existing) return existing.promise;
    const entry: InFlight = { origin, promise: Promise.resolve() as unknown as Promise<StatusReading> };
    const settle = (): void => {
      if (this.inFlight[kind] === entry) delete this.inFlight[kind];
    };
    // Registered first: a call that fails before its first await must still find (and clear) its entry.
    this.inFlight[kind] = entry;
    entry.promise = (async () => {
      try {
        const api = this.account.vehicleApi();
        const reading: StatusReading | LocationReading =
          kind === 'status' ? { ...(await api.getStatus(this.vehicleId)), fetchedAt: 0 } : { ...(await api.getLocation(this.vehicleId)), fetchedAt: 0 };
        reading.fetchedAt = this.clock.now();
        settle();
        this.succeeded(kind, reading);
        return reading;
      } catch (err) {
        const error = toApiError(err);
        settle();
        this.failed(kind, error, entry.origin);
        throw error;
      }
    })();
    return entry.promise;
  }

  private succeeded(kind: HubKind, reading: StatusReading | LocationReading): void {
    this.cache[kind] = reading as never;
    this.lastPolled[kind] = reading.fetchedAt;
    delete this.backoff[kind];
    if (this.closed) return;
    for (const sub of [...this.subscribers]) {
      if (sub.wants === kind && sub.intervalSeconds > 0) this.deliver(sub, kind, reading);
    }
    this.schedule();
  }

  private failed(kind: HubKind, error: ApiError, origin: 'poll' | 'read'): void {
    if (this.closed) return;
    const now = this.clock.now();
    if (error.kind === 'reauth') {
      this.pauseForReauth(error);
      return;
    }
    if (error.kind === 'rate-limited') {
      const seconds = Math.max(1, error.retryAfterSeconds ?? this.options.defaultRetryAfterSeconds ?? 60);
      const until = Math.max(now + seconds * 1000, this.rateLimit?.until ?? 0);
      this.rateLimit = { until, error };
      this.lastPolled[kind] = now;
      this.tell(undefined, waitingFor('rate-limited', until, now, error));
      this.schedule();
      return;
    }
    if (origin === 'read') {
      // The reader has the error; a manual read neither backs polling off nor reports to every node.
      this.schedule();
      return;
    }
    const failures = (this.backoff[kind]?.failures ?? 0) + 1;
    const interval = this.pollIntervalMs(kind) ?? this.minIntervalSeconds() * 1000;
    let delay = backoffDelayMs(failures, interval, (this.options.backoffMaxSeconds ?? 900) * 1000, this.random);
    // A 503 may say when to come back.
    if (error.retryAfterSeconds !== undefined) delay = Math.max(delay, error.retryAfterSeconds * 1000);
    const until = now + delay;
    this.backoff[kind] = { failures, until, error };
    this.lastPolled[kind] = now;
    for (const sub of [...this.subscribers]) {
      if (sub.wants === kind && sub.intervalSeconds > 0) this.call(() => sub.sub.onError?.(error, kind));
    }
    this.tell(kind, waitingFor('backoff', until, now, error));
    this.schedule();
  }

  private pauseForReauth(error?: ApiError): void {
    if (this.reauthPaused) return;
    this.reauthPaused = true;
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer.handle);
    this.pollTimer = undefined;
    this.tell(undefined, error ? { reason: 'reauth', error } : { reason: 'reauth' });
  }

  /** The account's authorization changed: pause unless authorized; on authorization, poll at once. */
  accountStateChanged(state: AuthState): void {
    if (this.closed) return;
    if (state !== 'authorized') {
      this.pauseForReauth();
      return;
    }
    if (!this.reauthPaused) return;
    this.reauthPaused = false;
    for (const kind of KINDS) delete this.backoff[kind];
    // Poll at once (a Retry-After still in force comes first).
    for (const kind of KINDS) delete this.lastPolled[kind];
    this.schedule();
  }

  private async runRefresh(): Promise<RefreshOutcome> {
    const api = this.account.vehicleApi();
    let commandId: string;
    try {
      commandId = await api.requestStatusRefresh(this.vehicleId);
    } catch (err) {
      const error = toApiError(err);
      this.failed('status', error, 'read');
      throw error;
    }
    const started = this.clock.now();
    this.lastRefreshAt = started;
    const deadline = started + (this.options.refreshTimeoutSeconds ?? 60) * 1000;
    const pollMs = Math.max(500, (this.options.refreshPollSeconds ?? 3) * 1000);
    let result: StatusRefreshResult | undefined;
    for (;;) {
      await this.sleep(Math.min(pollMs, Math.max(0, deadline - this.clock.now())));
      try {
        result = await api.statusRefreshResult(this.vehicleId, commandId);
      } catch (err) {
        const error = toApiError(err);
        this.failed('status', error, 'read');
        throw error;
      }
      if (result.state === 'failed') return { commandId, outcome: 'failed', result };
      if (result.state === 'completed') break;
      if (this.clock.now() >= deadline) return { commandId, outcome: 'timeout', result };
    }
    // A read that began before the vehicle reported would be stale: wait it out, then read anew.
    await this.inFlight.status?.promise.catch(() => undefined);
    const status = (await this.fetch('status', 'read')) as StatusReading;
    return { commandId, outcome: 'completed', result, status };
  }

  private deliver(entry: Entry, kind: HubKind, reading: StatusReading | LocationReading): void {
    if (kind === 'status') this.call(() => entry.sub.onStatus?.(reading as StatusReading));
    else this.call(() => entry.sub.onLocation?.(reading as LocationReading));
  }

  /** `onWaiting` to the subscribers of `kind`, or to all. */
  private tell(kind: HubKind | undefined, waiting: HubWaiting): void {
    for (const sub of [...this.subscribers]) {
      if (kind === undefined || sub.wants === kind) this.call(() => sub.sub.onWaiting?.(waiting));
    }
  }

  /** One subscriber's exception must not cost the others their readings. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      // The subscriber's own problem; it is reported where it happened (the node's handler).
    }
  }

  /** Closes the hub when no one subscribes and nothing is under way (a hub that was only read). */
  closeIfIdle(): void {
    if (this.subscribers.size === 0 && !this.inFlight.status && !this.inFlight.location && !this.refreshing) this.close();
  }
}

/**
 * The hubs of a process, one per (account object, vehicle id): Node-RED
 * nodes share them like mqtt clients share their broker. A hub leaves the
 * registry when its last subscriber goes (or, if it was only read, when the
 * read is done); a new account object (a redeployed config node) gets new hubs.
 */
export class VehicleHubs {
  private readonly byAccount = new WeakMap<HubAccount, { hubs: Map<string, VehicleHub>; listener: (state: AuthState) => void }>();

  constructor(private readonly options: HubOptions = {}) {}

  /** The hub for this account and vehicle, created on first use. Throws ApiError `bad-request` for a malformed id. */
  hub(account: HubAccount, vehicleId: string): VehicleHub {
    const id = assertVehicleId(vehicleId).toLowerCase();
    let entry = this.byAccount.get(account);
    if (!entry) {
      const hubs = new Map<string, VehicleHub>();
      const listener = (state: AuthState): void => {
        for (const hub of [...hubs.values()]) hub.accountStateChanged(state);
      };
      entry = { hubs, listener };
      this.byAccount.set(account, entry);
      account.on('state', listener);
    }
    const current = entry;
    const { hubs } = current;
    let hub = hubs.get(id);
    if (!hub || hub.isClosed) {
      hub = new VehicleHub(account, id, this.options, {
        onClose: (closed) => {
          if (hubs.get(id) === closed) hubs.delete(id);
          if (hubs.size === 0 && this.byAccount.get(account) === current) {
            account.off('state', current.listener);
            this.byAccount.delete(account);
          }
        },
      });
      hubs.set(id, hub);
    }
    return hub;
  }

  /** The hub if one exists now (nothing is created). */
  get(account: HubAccount, vehicleId: string): VehicleHub | undefined {
    const id = typeof vehicleId === 'string' ? vehicleId.toLowerCase() : '';
    const hub = this.byAccount.get(account)?.hubs.get(id);
    return hub && !hub.isClosed ? hub : undefined;
  }

  /** Subscribes to the vehicle's hub; returns the unsubscribe. */
  subscribe(account: HubAccount, vehicleId: string, subscriber: HubSubscriber): () => void {
    const hub = this.hub(account, vehicleId);
    try {
      return hub.subscribe(subscriber);
    } catch (err) {
      hub.closeIfIdle();
      throw err;
    }
  }

  /** {@link VehicleHub.read} on the vehicle's hub (a `msg.vehicleId` without a subscription works too). */
  read<K extends HubKind>(account: HubAccount, vehicleId: string, kind: K, maxAgeSeconds = 0): Promise<HubReading<K>> {
    try {
      return this.hub(account, vehicleId).read(kind, maxAgeSeconds);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@link VehicleHub.refresh} on the vehicle's hub. */
  refresh(account: HubAccount, vehicleId: string): Promise<RefreshOutcome> {
    try {
      return this.hub(account, vehicleId).refresh();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** How many open hubs this account has. */
  count(account: HubAccount): number {
    return this.byAccount.get(account)?.hubs.size ?? 0;
  }
}

/** The process-wide registry the nodes share. */
export const vehicleHubs = new VehicleHubs();
