import { ApiError, NotSentError } from './api/errors';
import { NO_COMMANDS_TEXT } from './api/fcon-query';
import type { VehicleStatus } from './api/status';
import { assertVehicleId, type CommandStateResult, type VehicleApi, type VehicleCommand } from './api/vehicle-api';
import type { AuthState } from './oauth/token-manager';
import type { Scope } from './scopes';
import { str } from './api/wire-values';

/**
 * The command runner every command node shares: refuses without the scope,
 * keeps a looping flow from hammering the car (cooldown per vehicle and
 * action), folds identical concurrent commands into one, sends the command
 * and follows the API's asynchronous status until the vehicle has answered.
 */

/** DESIGN.md audit actions of the commands. */
export type CommandAction = 'lock' | 'unlock' | 'remote-start' | 'remote-stop' | 'horn-lights' | 'charge.start' | 'charge.stop';

export interface CommandSpec {
  action: CommandAction;
  command: VehicleCommand;
  scope: Scope;
  /** Sensitive actions ask for a confirmation by default (step-up on the owner's side). */
  sensitive: boolean;
  /** Default cooldown, seconds: how soon the same action may reach the same vehicle again. */
  cooldownSeconds: number;
  /** Sending it twice leaves the car as sending it once: the only kind sent again after a send without an answer. */
  idempotent?: boolean;
}

export const COMMAND_SPECS: Readonly<Record<CommandAction, CommandSpec>> = {
  lock: { action: 'lock', command: 'lock', scope: 'command:lock', sensitive: false, cooldownSeconds: 5, idempotent: true },
  unlock: { action: 'unlock', command: 'unlock', scope: 'command:lock', sensitive: true, cooldownSeconds: 30 },
  'remote-start': { action: 'remote-start', command: 'startEngine', scope: 'command:remote-start', sensitive: true, cooldownSeconds: 120 },
  // Stopping must stay possible right after a start: only a short guard against loops.
  'remote-stop': { action: 'remote-stop', command: 'stopEngine', scope: 'command:remote-start', sensitive: false, cooldownSeconds: 5 },
  'horn-lights': { action: 'horn-lights', command: 'signal', scope: 'command:horn-lights', sensitive: false, cooldownSeconds: 30 },
  'charge.start': { action: 'charge.start', command: 'startCharge', scope: 'command:charge', sensitive: false, cooldownSeconds: 30 },
  'charge.stop': { action: 'charge.stop', command: 'stopCharge', scope: 'command:charge', sensitive: false, cooldownSeconds: 5 },
};

/** What the runner needs of a FordAccount. */
export interface CommandAccount {
  readonly config: { readonly id: string };
  readonly endpoints: { readonly commands: boolean };
  readonly state: AuthState;
  can(scope: Scope): boolean;
  vehicleApi(): VehicleApi;
}

/** `timeout`: no answer from the vehicle, in time or at all, so it may still act. */
export type CommandOutcomeStatus = 'success' | 'failed' | 'timeout';

export interface CommandResult {
  action: CommandAction;
  vehicleId: string;
  status: CommandOutcomeStatus;
  commandId: string;
  /** From sending the command to the vehicle's answer (or the timeout). */
  durationMs: number;
  /** Why it failed or timed out, in words. */
  reason?: string;
  /** True when this request joined an identical command already under way. */
  coalesced: boolean;
}

export interface CommandRequest {
  account: CommandAccount;
  vehicleId: string;
  action: CommandAction;
  /** How long to follow the command, seconds. Default 60 (Ford's command ids live about 2 minutes). */
  timeoutSeconds?: number;
  /** Overrides the action's default cooldown, seconds (0 = none). */
  cooldownSeconds?: number;
}

export interface RunnerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Looked up at call time, so sinon's fake timers govern the runner in tests. */
const systemClock: RunnerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const DEFAULT_TIMEOUT_SECONDS = 60;
/** Status polls: quick at first (most commands finish in a few seconds), then easing off. */
const FIRST_POLL_MS = 250;
const FAST_POLL_CAP_MS = 1000;
const FAST_PHASE_MS = 15_000;
const SLOW_POLL_MS = 3000;
/** When a command's 429 carries no Retry-After, seconds. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;
/** Transient errors in a row while following a command before giving up on it. */
const MAX_TRANSIENT_ERRORS = 5;

/** A command refused before any request: no scope, cooldown, read-only API, bad vehicle id. */
export class CommandRefusedError extends ApiError {}

/**
 * The command left but no answer came back (no response, a timeout, a 5xx),
 * or the API took it with an answer nobody can read: it may have reached
 * the vehicle, so it is not sent again (a lock without an answer, once).
 */
export class CommandOutcomeUnknownError extends ApiError {}

/** A request that never left (no connection), or no token to send it with: nothing reached the car. */
function neverSent(err: ApiError): boolean {
  if (err instanceof NotSentError) return true;
  return (err.kind === 'auth' || err.kind === 'reauth') && err.httpStatus === undefined;
}

/** The attempt did not act: the API said no (4xx), or the request never left. */
function neverActed(err: unknown): boolean {
  if (!(err instanceof ApiError) || err instanceof CommandOutcomeUnknownError) return false;
  return (err.httpStatus !== undefined && err.httpStatus >= 400 && err.httpStatus < 500) || neverSent(err);
}

/** How long the API asked to be left alone: a 429's Retry-After (or a default), or one a failure carried. */
function holdSeconds(err: unknown): number | undefined {
  if (!(err instanceof ApiError)) return undefined;
  if (err.kind === 'rate-limited' && err.httpStatus === 429) return Math.max(1, err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  if (err instanceof CommandOutcomeUnknownError && err.retryAfterSeconds !== undefined) return Math.max(1, err.retryAfterSeconds);
  return undefined;
}

/** A send that may have reached the vehicle although it got no answer. */
function unanswered(err: unknown): err is ApiError {
  if (!(err instanceof ApiError)) return false;
  if (err.kind === 'server') return true;
  return err.kind === 'network' && !neverSent(err);
}

export class CommandRunner {
  /** When each (account, vehicle, action) was last sent, and until when that holds the next one back. */
  private readonly lastSent = new Map<string, { at: number; until: number }>();
  private readonly inFlight = new Map<string, Promise<CommandResult>>();
  /**
   * A 429 to a command holds every command of that account on that vehicle
   * back until its Retry-After has passed: the API said when to come back,
   * and a looping flow must not knock again meanwhile.
   */
  private readonly retryAfter = new Map<string, number>();

  constructor(private readonly clock: RunnerClock = systemClock) {}

  /**
   * Runs one command. Refusals throw a {@link CommandRefusedError} before any
   * request; a send that may have reached the car without an answer throws
   * a {@link CommandOutcomeUnknownError} and is not sent again (a lock, once);
   * other errors while sending throw the API's {@link ApiError}. Once the API
   * accepted the command, the promise resolves with success, failure or
   * timeout.
   */
  run(request: CommandRequest): Promise<CommandResult> {
    const spec = Object.hasOwn(COMMAND_SPECS, request.action) ? COMMAND_SPECS[request.action] : undefined;
    if (!spec) return Promise.reject(new CommandRefusedError('bad-request', `unknown command action; one of ${Object.keys(COMMAND_SPECS).join(', ')}`));
    let vehicleId: string;
    try {
      vehicleId = assertVehicleId(request.vehicleId);
      this.checkAllowed(request.account, spec);
    } catch (err) {
      return Promise.reject(err instanceof ApiError && !(err instanceof CommandRefusedError) ? new CommandRefusedError(err.kind, err.message, err.httpStatus) : err);
    }
    const key = this.key(request.account, vehicleId, spec.action);
    const running = this.inFlight.get(key);
    if (running) return running.then((result) => ({ ...result, coalesced: true }));
    const cooling = this.retryAfterRefusal(request.account, vehicleId, spec) ?? this.cooldownRefusal(key, spec, request.cooldownSeconds);
    if (cooling) return Promise.reject(cooling);

    const now = this.clock.now();
    this.prune(now);
    this.lastSent.set(key, { at: now, until: now + Math.max(0, request.cooldownSeconds ?? spec.cooldownSeconds) * 1000 });
    const run = this.send(request.account.vehicleApi(), vehicleId, spec, (request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000)
      .catch((err: unknown) => {
        // An API that answered "no" (4xx), or a request that never left, did not act: that attempt does
        // not hold the next one back. Without an answer the command may have reached the car, so the
        // cooldown stands; so it does after a 2xx whose body could not be read: the API accepted it.
        if (neverActed(err)) this.lastSent.delete(key);
        // The API said when to ask again (a 429, or Retry-After on a failure): nothing goes to this vehicle before then.
        const hold = holdSeconds(err);
        if (hold !== undefined) this.retryAfter.set(this.vehicleKey(request.account, vehicleId), this.clock.now() + hold * 1000);
        throw err;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
    return run;
  }

  /**
   * Why this action may not be sent now — read-only API, authorization,
   * scope, and (given the vehicle) the cooldown — or undefined. Nodes ask
   * before they park a command for confirmation.
   */
  refusal(account: CommandAccount, action: CommandAction, vehicleId?: string, cooldownSeconds?: number): CommandRefusedError | undefined {
    if (!Object.hasOwn(COMMAND_SPECS, action)) return new CommandRefusedError('bad-request', `unknown command action; one of ${Object.keys(COMMAND_SPECS).join(', ')}`);
    const spec = COMMAND_SPECS[action];
    try {
      this.checkAllowed(account, spec);
    } catch (err) {
      return err as CommandRefusedError;
    }
    if (vehicleId === undefined) return undefined;
    const key = this.key(account, vehicleId, action);
    return this.inFlight.has(key) ? undefined : (this.retryAfterRefusal(account, vehicleId, spec) ?? this.cooldownRefusal(key, spec, cooldownSeconds));
  }

  /** Forgets cooldowns and in-flight commands (tests, and a package reload). */
  reset(): void {
    this.lastSent.clear();
    this.inFlight.clear();
    this.retryAfter.clear();
  }

  private key(account: CommandAccount, vehicleId: string, action: CommandAction): string {
    return `${this.vehicleKey(account, vehicleId)}|${action}`;
  }

  private vehicleKey(account: CommandAccount, vehicleId: string): string {
    return `${account.config.id}|${vehicleId.toLowerCase()}`;
  }

  private retryAfterRefusal(account: CommandAccount, vehicleId: string, spec: CommandSpec): CommandRefusedError | undefined {
    const until = this.retryAfter.get(this.vehicleKey(account, vehicleId));
    const now = this.clock.now();
    if (until === undefined || now >= until) return undefined;
    const wait = Math.ceil((until - now) / 1000);
    return new CommandRefusedError('rate-limited', `${spec.action} not sent: the API rate-limited this vehicle's commands (429) and asked to retry after ${new Date(until).toISOString()}; the next is allowed in ${wait} s`, undefined, wait);
  }

  private cooldownRefusal(key: string, spec: CommandSpec, cooldownSeconds: number | undefined): CommandRefusedError | undefined {
    const now = this.clock.now();
    const cooldownMs = Math.max(0, cooldownSeconds ?? spec.cooldownSeconds) * 1000;
    const last = this.lastSent.get(key)?.at;
    if (last === undefined || now - last >= cooldownMs) return undefined;
    const wait = Math.ceil((last + cooldownMs - now) / 1000);
    return new CommandRefusedError('rate-limited', `${spec.action} was sent to this vehicle ${Math.round((now - last) / 1000)} s ago; the next is allowed in ${wait} s (cooldown ${cooldownMs / 1000} s)`, undefined, wait);
  }

  private checkAllowed(account: CommandAccount, spec: CommandSpec): void {
    if (!account.endpoints.commands || !account.vehicleApi().canCommand) throw new CommandRefusedError('forbidden', NO_COMMANDS_TEXT);
    if (account.state !== 'authorized') throw new CommandRefusedError('reauth', account.state === 'reauth-needed' ? 'the account is waiting for re-authorization' : 'the account is not authorized');
    if (!account.can(spec.scope)) throw new CommandRefusedError('scope', `${spec.scope} is not ticked in the account or not granted by the owner`, undefined, undefined, spec.scope);
  }

  /** Sends once; a lock that got no answer is sent once more, as locking twice is harmless. */
  private async sendCommand(api: VehicleApi, vehicleId: string, spec: CommandSpec): Promise<string> {
    try {
      return await api.sendCommand(vehicleId, spec.command);
    } catch (first) {
      // A 2xx whose body could not be read: the API took the command; sending it again would be a second one.
      if (first instanceof ApiError && first.kind === 'bad-response') throw outcomeUnknown(spec, first, 'the API accepted it, but its answer could not be read', NOT_SENT_AGAIN);
      if (!unanswered(first)) throw first;
      // Not again when the API said when to come back.
      if (!spec.idempotent || first.retryAfterSeconds !== undefined) throw outcomeUnknown(spec, first, 'no answer', NOT_SENT_AGAIN);
      try {
        return await api.sendCommand(vehicleId, spec.command);
      } catch (second) {
        // Whatever became of the second, the first may have reached the vehicle.
        const error = outcomeUnknown(spec, first, 'no answer', `sent once more (locking twice is harmless), which ${errorMessage(second)}; check the vehicle`);
        const hold = holdSeconds(second);
        throw hold === undefined ? error : new CommandOutcomeUnknownError(error.kind, error.message, error.httpStatus, hold);
      }
    }
  }

  private async send(api: VehicleApi, vehicleId: string, spec: CommandSpec, timeoutMs: number): Promise<CommandResult> {
    const started = this.clock.now();
    const commandId = await this.sendCommand(api, vehicleId, spec);
    const deadline = started + Math.max(1000, timeoutMs);
    const result = (status: CommandOutcomeStatus, reason?: string): CommandResult => ({
      action: spec.action,
      vehicleId,
      status,
      commandId,
      durationMs: this.clock.now() - started,
      ...(reason ? { reason } : {}),
      coalesced: false,
    });
    let delay = FIRST_POLL_MS;
    let transientErrors = 0;
    for (;;) {
      const left = deadline - this.clock.now();
      if (left <= 0) return result('timeout', `the vehicle did not answer within ${Math.round(timeoutMs / 1000)} s; it may still act`);
      await this.clock.sleep(Math.min(delay, left));
      delay = this.clock.now() - started < FAST_PHASE_MS ? Math.min(delay * 2, FAST_POLL_CAP_MS) : SLOW_POLL_MS;
      let state: CommandStateResult;
      try {
        state = await api.commandState(vehicleId, spec.command, commandId);
        transientErrors = 0;
      } catch (err) {
        const error = err instanceof ApiError ? err : new ApiError('network', err instanceof Error ? err.message : String(err));
        if (error.kind === 'rate-limited') {
          // Asking is what is limited, not the command: wait, within the deadline.
          const wait = (error.retryAfterSeconds ?? 30) * 1000;
          if (wait >= deadline - this.clock.now()) return result('timeout', `the API asked to wait ${Math.round(wait / 1000)} s before asking again, past the ${Math.round(timeoutMs / 1000)} s timeout; the vehicle may still act`);
          delay = Math.max(delay, wait);
          continue;
        }
        if ((error.kind === 'server' || error.kind === 'network' || error.kind === 'bad-response') && ++transientErrors < MAX_TRANSIENT_ERRORS) continue;
        // The API accepted the command: only the vehicle's answer is missing.
        return result('timeout', `could not follow the command: ${error.message}; the vehicle may still act`);
      }
      if (state.state === 'completed') return result('success');
      if (state.state === 'failed') return result('failed', failureReason(state.raw));
    }
  }

  /** Forgets cooldowns that have run out, each by its own length. */
  private prune(now: number): void {
    for (const [key, sent] of this.lastSent) if (now >= sent.until) this.lastSent.delete(key);
    for (const [key, until] of this.retryAfter) if (now >= until) this.retryAfter.delete(key);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NOT_SENT_AGAIN = 'it was not sent again; check the vehicle before sending it again';

function outcomeUnknown(spec: CommandSpec, err: ApiError, why: string, then: string): CommandOutcomeUnknownError {
  return new CommandOutcomeUnknownError(err.kind, `${err.message}: ${why}, so ${spec.action} may have reached the vehicle; ${then}`, err.httpStatus, err.retryAfterSeconds);
}

/** The vehicle's words when the API gives them (the simulator's extension), else Ford's bare FAILED. */
function failureReason(raw: unknown): string {
  const body = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return str(body.failureReason) ?? 'the vehicle reported the command as failed';
}

/** What a command result can say of the vehicle afterwards, from a fresh status read. */
export interface CommandVehicleState {
  lock?: VehicleStatus['lock'];
  engine?: VehicleStatus['engine'];
  charging?: VehicleStatus['charging'];
  battery?: VehicleStatus['battery'];
}

export function stateAfterCommand(status: VehicleStatus): CommandVehicleState {
  const out: CommandVehicleState = { lock: status.lock };
  if (status.engine) out.engine = status.engine;
  if (status.charging) out.charging = status.charging;
  if (status.battery) out.battery = status.battery;
  return out;
}

/** The process's runner: cooldowns must hold across every node on one vehicle. */
export const commandRunner = new CommandRunner();
