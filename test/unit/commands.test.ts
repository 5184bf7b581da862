import type { ChargeSchedules } from '../../src/lib/api/schedules';
import { expect } from 'chai';
import sinon from 'sinon';
import { ApiError, NotSentError } from '../../src/lib/api/errors';
import { NO_COMMANDS_TEXT } from '../../src/lib/api/fcon-query';
import type { ApiFlavour } from '../../src/lib/api/presets';
import type { VehicleStatus } from '../../src/lib/api/status';
import type { CommandStateResult, LocationResult, StatusRefreshResult, StatusResult, VehicleApi, VehicleCommand, VehicleSummary } from '../../src/lib/api/vehicle-api';
import {
  COMMAND_SPECS,
  CommandOutcomeUnknownError,
  CommandRefusedError,
  CommandRunner,
  DEFAULT_TIMEOUT_SECONDS,
  stateAfterCommand,
  type CommandAccount,
  type CommandAction,
  type CommandRequest,
  type CommandResult,
} from '../../src/lib/commands';
import type { AuthState } from '../../src/lib/oauth/token-manager';
import { SCOPE_NAMES, type Scope } from '../../src/lib/scopes';

const ID = '97da2849d73eb438a907d090402c802d';
const OTHER_ID = '0123456789abcdef0123456789abcdef';
const SEC = 1000;
const ACTIONS = Object.keys(COMMAND_SPECS) as CommandAction[];

/** One answer of commandState: a state, a whole result, or an error to throw. */
type StateAnswer = CommandStateResult['state'] | CommandStateResult | Error;

/** A VehicleApi whose command answers a test sets; it records every call with its (fake) time. */
class FakeApi implements VehicleApi {
  flavour: ApiFlavour = 'fordconnect-v1';
  canRefresh = true;
  canCommand = true;
  sent: { vehicleId: string; command: VehicleCommand; at: number }[] = [];
  polls: { vehicleId: string; command: VehicleCommand; commandId: string; at: number }[] = [];
  /** Calls of anything but the two command methods (a command must never read or refresh). */
  other = 0;
  sendAnswer: string | Error | (() => string | Error) = () => `cmd-${this.sent.length}`;
  sendDelayMs = 0;
  /** Consumed one per poll; once empty, every poll answers `rest`. */
  states: StateAnswer[] = [];
  rest: StateAnswer = 'completed';

  async listVehicles(): Promise<VehicleSummary[]> {
    this.other++;
    return [];
  }

  getStatus(): Promise<StatusResult> {
    this.other++;
    return Promise.reject(new ApiError('not-acceptable', 'not used by commands'));
  }

  getLocation(): Promise<LocationResult> {
    this.other++;
    return Promise.reject(new ApiError('not-acceptable', 'not used by commands'));
  }

  requestStatusRefresh(): Promise<string> {
    this.other++;
    return Promise.reject(new ApiError('not-acceptable', 'not used by commands'));
  }

  statusRefreshResult(): Promise<StatusRefreshResult> {
    this.other++;
    return Promise.reject(new ApiError('not-acceptable', 'not used by commands'));
  }

  getChargeSchedules(): Promise<ChargeSchedules> {
    this.other++;
    return Promise.reject(new ApiError('not-acceptable', 'not used by commands'));
  }

  async sendCommand(vehicleId: string, command: VehicleCommand): Promise<string> {
    this.sent.push({ vehicleId, command, at: Date.now() });
    if (this.sendDelayMs > 0) await new Promise((r) => setTimeout(r, this.sendDelayMs));
    const v = typeof this.sendAnswer === 'function' ? this.sendAnswer() : this.sendAnswer;
    if (v instanceof Error) throw v;
    return v;
  }

  async commandState(vehicleId: string, command: VehicleCommand, commandId: string): Promise<CommandStateResult> {
    this.polls.push({ vehicleId, command, commandId, at: Date.now() });
    const a = this.states.length > 0 ? this.states.shift()! : this.rest;
    if (a instanceof Error) throw a;
    return typeof a === 'string' ? { state: a, raw: { commandStatus: a } } : a;
  }
}

interface AccountOptions {
  id?: string;
  commands?: boolean;
  state?: AuthState;
  scopes?: readonly Scope[];
}

function accountOf(api: VehicleApi, options: AccountOptions = {}): CommandAccount {
  const scopes = new Set<string>(options.scopes ?? SCOPE_NAMES);
  return {
    config: { id: options.id ?? 'account-1' },
    endpoints: { commands: options.commands ?? true },
    state: options.state ?? 'authorized',
    can: (s: Scope) => scopes.has(s),
    vehicleApi: () => api,
  };
}

interface Tracked<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  promise: Promise<void>;
}

/** Follows a promise without letting its rejection go unhandled while fake time runs. */
function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { settled: false, promise: Promise.resolve() };
  t.promise = p.then(
    (value) => {
      t.settled = true;
      t.value = value;
    },
    (error: unknown) => {
      t.settled = true;
      t.error = error;
    },
  );
  return t;
}

async function refusedBy(p: Promise<unknown>): Promise<CommandRefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the run to be refused').to.be.instanceOf(CommandRefusedError);
  expect(err).to.be.instanceOf(ApiError);
  return err as CommandRefusedError;
}

describe('lib/commands (fake API, fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  let t0: number;
  let api: FakeApi;
  let account: CommandAccount;
  let runner: CommandRunner;

  const request = (over: Partial<CommandRequest> = {}): CommandRequest => ({ account, vehicleId: ID, action: 'lock', ...over });
  const pollTimes = (): number[] => api.polls.map((p) => p.at - t0);
  /** Runs a command to its end in fake time; fails the test if it has not settled after `ms`. */
  const runFor = async (req: CommandRequest, ms: number): Promise<CommandResult> => {
    const t = track(runner.run(req));
    await clock.tickAsync(ms);
    expect(t.settled, `the command should have settled within ${ms} ms`).to.equal(true);
    if (t.error !== undefined) throw t.error;
    return t.value!;
  };
  const expectNoRequest = (): void => {
    expect(api.sent, 'sendCommand calls').to.have.length(0);
    expect(api.polls, 'commandState calls').to.have.length(0);
    expect(api.other, 'other API calls').to.equal(0);
  };

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 10, 25, 8, 0, 0), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    t0 = Date.now();
    api = new FakeApi();
    account = accountOf(api);
    runner = new CommandRunner();
  });
  afterEach(() => {
    clock.restore();
  });

  describe('COMMAND_SPECS', () => {
    it("maps each action to Ford's command, its scope, sensitivity and default cooldown", () => {
      const table = Object.fromEntries(ACTIONS.map((a) => [a, [COMMAND_SPECS[a].command, COMMAND_SPECS[a].scope, COMMAND_SPECS[a].sensitive, COMMAND_SPECS[a].cooldownSeconds]]));
      expect(table).to.deep.equal({
        lock: ['lock', 'command:lock', false, 5],
        unlock: ['unlock', 'command:lock', true, 30],
        'remote-start': ['startEngine', 'command:remote-start', true, 120],
        'remote-stop': ['stopEngine', 'command:remote-start', false, 5],
        'horn-lights': ['signal', 'command:horn-lights', false, 30],
        'charge.start': ['startCharge', 'command:charge', false, 30],
        'charge.stop': ['stopCharge', 'command:charge', false, 5],
      });
      for (const a of ACTIONS) expect(COMMAND_SPECS[a].action).to.equal(a);
    });
  });

  describe('refusals before any request', () => {
    it('refuses every action on an account whose endpoints offer no commands (forbidden, naming the read-only official API)', async () => {
      account = accountOf(api, { commands: false });
      for (const action of ACTIONS) {
        const err = await refusedBy(runner.run(request({ action })));
        expect(err.kind).to.equal('forbidden');
        expect(err.message).to.equal(NO_COMMANDS_TEXT);
        expect(err.message).to.match(/Ford's official API/).and.match(/no remote commands/);
      }
      expectNoRequest();
    });

    it('refuses when the API adapter cannot command (canCommand false), even with the endpoints saying yes', async () => {
      api.canCommand = false;
      const err = await refusedBy(runner.run(request({ action: 'unlock' })));
      expect(err.kind).to.equal('forbidden');
      expect(err.message).to.match(/Ford's official API.*no remote commands/);
      expectNoRequest();
    });

    it('refuses an account that is not authorized, or waits for re-authorization (reauth)', async () => {
      account = accountOf(api, { state: 'unauthorized' });
      const unauthorized = await refusedBy(runner.run(request()));
      expect(unauthorized.kind).to.equal('reauth');
      expect(unauthorized.message).to.match(/not authorized/);

      account = accountOf(api, { state: 'reauth-needed' });
      const reauth = await refusedBy(runner.run(request()));
      expect(reauth.kind).to.equal('reauth');
      expect(reauth.message).to.match(/re-authorization/);
      expectNoRequest();
    });

    it('refuses without the scope of the action, naming it in .scope', async () => {
      account = accountOf(api, { scopes: ['read:status', 'command:lock'] });
      const start = await refusedBy(runner.run(request({ action: 'remote-start' })));
      expect(start.kind).to.equal('scope');
      expect(start.scope).to.equal('command:remote-start');
      expect(start.message).to.include('command:remote-start');
      // remote-stop needs the same scope as remote-start.
      expect((await refusedBy(runner.run(request({ action: 'remote-stop' })))).scope).to.equal('command:remote-start');
      expect((await refusedBy(runner.run(request({ action: 'horn-lights' })))).scope).to.equal('command:horn-lights');
      expect((await refusedBy(runner.run(request({ action: 'charge.stop' })))).scope).to.equal('command:charge');
      expectNoRequest();
      // The scope it has works.
      const result = await runFor(request({ action: 'unlock' }), 250);
      expect(result.status).to.equal('success');
    });

    it('refuses a malformed vehicle id (bad-request) without repeating it', async () => {
      const vin = '1FTFW1E50NFA00001';
      for (const vehicleId of [vin, '', `${ID}/../x`, ID.slice(1), `${ID}?a=1`, 42, undefined]) {
        const err = await refusedBy(runner.run(request({ vehicleId: vehicleId as string })));
        expect(err.kind).to.equal('bad-request');
        expect(err.message).to.match(/32-character hexadecimal/);
      }
      const err = await refusedBy(runner.run(request({ vehicleId: vin })));
      expect(err.message).to.not.include(vin);
      expect(err.message).to.include('VIN');
      expectNoRequest();
    });

    it('refuses an unknown action (bad-request, listing the known ones)', async () => {
      const err = await refusedBy(runner.run(request({ action: 'open-trunk' as CommandAction })));
      expect(err.kind).to.equal('bad-request');
      for (const a of ACTIONS) expect(err.message).to.include(a);
      expectNoRequest();
    });

    it('refuses an action named like an Object.prototype member (toString, constructor) as unknown', async () => {
      for (const action of ['toString', 'constructor', 'hasOwnProperty']) {
        const err = await refusedBy(runner.run(request({ action: action as CommandAction })));
        expect(err.kind, `action ${action}`).to.equal('bad-request');
      }
      expectNoRequest();
    });

    it('refusal() gives the same refusal without throwing, and undefined when allowed', () => {
      expect(runner.refusal(account, 'lock')).to.equal(undefined);
      expect(runner.refusal(account, 'remote-start')).to.equal(undefined);

      const cases: [CommandAccount, CommandAction, string, string | undefined][] = [
        [accountOf(api, { commands: false }), 'lock', 'forbidden', undefined],
        [accountOf(api, { state: 'reauth-needed' }), 'lock', 'reauth', undefined],
        [accountOf(api, { state: 'unauthorized' }), 'lock', 'reauth', undefined],
        [accountOf(api, { scopes: ['command:lock'] }), 'horn-lights', 'scope', 'command:horn-lights'],
      ];
      for (const [acct, action, kind, scope] of cases) {
        const err = runner.refusal(acct, action);
        expect(err).to.be.instanceOf(CommandRefusedError);
        expect(err!.kind).to.equal(kind);
        expect(err!.scope).to.equal(scope);
      }
      const forbidden = runner.refusal(accountOf(api, { commands: false }), 'lock')!;
      expect(forbidden.message).to.equal(NO_COMMANDS_TEXT);
      api.canCommand = false;
      expect(runner.refusal(account, 'lock')!.kind).to.equal('forbidden');
      expectNoRequest();
    });

    it('refusal() of an unknown action returns a CommandRefusedError (bad-request), not a TypeError', () => {
      const err = runner.refusal(account, 'open-trunk' as CommandAction);
      expect(err).to.be.instanceOf(CommandRefusedError);
      expect(err!.kind).to.equal('bad-request');
      expectNoRequest();
    });

    it('refusal() ignores the cooldown (that is checked when the command runs)', async () => {
      await runFor(request(), 250);
      expect(runner.refusal(account, 'lock')).to.equal(undefined);
      await refusedBy(runner.run(request()));
    });
  });

  describe('success path', () => {
    it('sends the command once and polls its state until completed', async () => {
      api.sendAnswer = 'cmd-abc';
      api.states = ['pending', 'pending', 'completed'];
      const result = await runFor(request({ action: 'remote-start' }), 10 * SEC);
      expect(api.sent).to.deep.equal([{ vehicleId: ID, command: 'startEngine', at: t0 }]);
      expect(api.polls.map(({ vehicleId, command, commandId }) => ({ vehicleId, command, commandId }))).to.deep.equal(
        Array(3).fill({ vehicleId: ID, command: 'startEngine', commandId: 'cmd-abc' }),
      );
      expect(pollTimes()).to.deep.equal([250, 750, 1750]);
      expect(result).to.deep.equal({ action: 'remote-start', vehicleId: ID, status: 'success', commandId: 'cmd-abc', durationMs: 1750, coalesced: false });
      expect(api.other).to.equal(0);
      expect(clock.countTimers(), 'no timer left behind').to.equal(0);
    });

    it('counts durationMs from sending (the time sendCommand takes included)', async () => {
      api.sendDelayMs = 400;
      const result = await runFor(request(), 1 * SEC);
      expect(pollTimes()).to.deep.equal([650]);
      expect(result.durationMs).to.equal(650);
    });

    it('polls first after 250 ms, doubling to a 1 s cap, and every 3 s after 15 s', async () => {
      api.states = Array<StateAnswer>(18).fill('pending');
      const t = track(runner.run(request()));
      await clock.tickAsync(249);
      expect(api.polls).to.have.length(0);
      await clock.tickAsync(1);
      expect(pollTimes()).to.deep.equal([250]);
      await clock.tickAsync(30 * SEC);
      await t.promise;
      const expected = [250, 750, 1750, 2750, 3750, 4750, 5750, 6750, 7750, 8750, 9750, 10750, 11750, 12750, 13750, 14750, 15750, 18750, 21750];
      expect(pollTimes()).to.deep.equal(expected);
      expect(t.value!.status).to.equal('success');
      expect(t.value!.durationMs).to.equal(21750);
    });

    it('passes the mapped Ford command for every action', async () => {
      for (const action of ACTIONS) {
        runner.reset();
        api.sent = [];
        const result = await runFor(request({ action }), 250);
        expect(result.action).to.equal(action);
        expect(api.sent.map((s) => s.command)).to.deep.equal([COMMAND_SPECS[action].command]);
      }
    });
  });

  describe('failure and timeout', () => {
    it("fails with the API's failureReason when the vehicle reports FAILED", async () => {
      api.states = ['pending', { state: 'failed', raw: { commandStatus: 'FAILED', failureReason: '  door ajar  ' } }];
      const result = await runFor(request({ action: 'unlock' }), 1 * SEC);
      expect(result.status).to.equal('failed');
      expect(result.reason).to.equal('door ajar');
      expect(result.durationMs).to.equal(750);
      expect(result.coalesced).to.equal(false);
    });

    it('fails with a default reason when the API gives none', async () => {
      for (const raw of [{ commandStatus: 'FAILED' }, { failureReason: '' }, { failureReason: 42 }, null, 'FAILED', undefined]) {
        runner.reset();
        api.states = [{ state: 'failed', raw }];
        const result = await runFor(request(), 250);
        expect(result.status).to.equal('failed');
        expect(result.reason, JSON.stringify(raw)).to.equal('the vehicle reported the command as failed');
      }
    });

    it('times out at the default 60 s with a bounded number of polls, saying the vehicle may still act', async () => {
      expect(DEFAULT_TIMEOUT_SECONDS).to.equal(60);
      api.rest = 'pending';
      const t = track(runner.run(request()));
      await clock.tickAsync(60 * SEC - 1);
      expect(t.settled).to.equal(false);
      await clock.tickAsync(1);
      await t.promise;
      expect(t.value).to.deep.include({ status: 'timeout', durationMs: 60 * SEC, commandId: 'cmd-1', coalesced: false });
      expect(t.value!.reason).to.match(/60 s/).and.match(/may still act/);
      // 250, 750, then every second to 15.75 s, then every 3 s, and once at the deadline.
      expect(api.polls).to.have.length(32);
      expect(pollTimes().at(-1)).to.equal(60 * SEC);
      expect(api.sent).to.have.length(1);
      await clock.tickAsync(10 * 60 * SEC);
      expect(api.polls).to.have.length(32);
      expect(clock.countTimers()).to.equal(0);
    });

    it('times out at the configured timeout', async () => {
      api.rest = 'pending';
      const t = track(runner.run(request({ timeoutSeconds: 10 })));
      await clock.tickAsync(10 * SEC - 1);
      expect(t.settled).to.equal(false);
      await clock.tickAsync(1);
      await t.promise;
      expect(t.value).to.deep.include({ status: 'timeout', durationMs: 10 * SEC });
      expect(t.value!.reason).to.match(/within 10 s/).and.match(/may still act/);
      expect(pollTimes().every((at) => at <= 10 * SEC)).to.equal(true);
      expect(api.polls.length).to.be.at.most(13);
    });
  });

  describe('errors while following', () => {
    it('on a 429 waits at least Retry-After, then goes on following', async () => {
      api.states = ['pending', new ApiError('rate-limited', 'slow down', 429, 7), 'completed'];
      const result = await runFor(request(), 20 * SEC);
      const times = pollTimes();
      expect(times).to.have.length(3);
      expect(times[2] - times[1]).to.be.at.least(7 * SEC);
      expect(result.status).to.equal('success');
      expect(result.durationMs).to.equal(times[2]);
      expect(api.sent).to.have.length(1);
    });

    it('on a 429 without Retry-After waits 30 s', async () => {
      api.states = [new ApiError('rate-limited', 'slow down', 429), 'completed'];
      const result = await runFor(request(), 40 * SEC);
      const times = pollTimes();
      expect(times[1] - times[0]).to.be.at.least(30 * SEC);
      expect(result.status).to.equal('success');
    });

    it('does not count 429s as transient errors', async () => {
      api.states = [...Array<StateAnswer>(6).fill(new ApiError('rate-limited', 'slow down', 429, 1)), 'completed'];
      const result = await runFor(request(), 20 * SEC);
      expect(result.status).to.equal('success');
      expect(api.polls).to.have.length(7);
    });

    it('tolerates up to 4 transient errors in a row (server, network, bad-response, a plain Error)', async () => {
      api.states = [new ApiError('server', 'bad gateway', 502), new ApiError('network', 'ECONNRESET'), new ApiError('bad-response', 'not JSON'), new Error('socket hang up'), 'completed'];
      const result = await runFor(request(), 10 * SEC);
      expect(result.status).to.equal('success');
      expect(api.polls).to.have.length(5);
      expect(api.sent).to.have.length(1);
    });

    it('counts only errors in a row: a good answer starts the count again', async () => {
      const four = (): StateAnswer[] => Array.from({ length: 4 }, () => new ApiError('server', 'unavailable', 503));
      api.states = [...four(), 'pending', ...four(), 'completed'];
      const result = await runFor(request(), 20 * SEC);
      expect(result.status).to.equal('success');
      expect(api.polls).to.have.length(10);
    });

    it('gives up on the 5th transient error in a row as timeout: accepted, so the vehicle may still act ("could not follow the command")', async () => {
      api.states = ['pending', new ApiError('server', 'e1', 500), new ApiError('network', 'e2'), new ApiError('bad-response', 'e3'), new ApiError('server', 'e4', 503), new ApiError('network', 'ECONNREFUSED')];
      api.rest = 'completed';
      const result = await runFor(request(), 20 * SEC);
      expect(result.status).to.equal('timeout');
      expect(result.reason).to.equal('could not follow the command: ECONNREFUSED; the vehicle may still act');
      expect(api.polls).to.have.length(6);
      expect(result.durationMs).to.equal(pollTimes()[5]);
      expect(api.sent).to.have.length(1);
    });

    it('stops following at once on a non-transient error, as timeout (the API had accepted the command)', async () => {
      for (const error of [new ApiError('forbidden', 'IP not on the allow-list', 403), new ApiError('not-found', 'no such command', 404)]) {
        runner.reset();
        api.polls = [];
        api.states = [error];
        const result = await runFor(request(), 250);
        expect(result.status).to.equal('timeout');
        expect(result.reason).to.equal(`could not follow the command: ${error.message}; the vehicle may still act`);
        expect(api.polls).to.have.length(1);
      }
    });

    it('rejects a send without an answer as "may have reached the vehicle", and never re-sends an unlock, start or signal', async () => {
      for (const action of ['unlock', 'remote-start', 'remote-stop', 'horn-lights', 'charge.start', 'charge.stop'] as const) {
        runner.reset();
        api.sent = [];
        api.sendAnswer = new ApiError('server', 'gateway timeout', 504);
        const t = track(runner.run(request({ action })));
        await clock.tickAsync(10 * 60 * SEC);
        expect(t.settled).to.equal(true);
        expect(t.error, action).to.be.instanceOf(CommandOutcomeUnknownError).and.not.be.instanceOf(CommandRefusedError);
        const err = t.error as CommandOutcomeUnknownError;
        expect([err.kind, err.httpStatus]).to.deep.equal(['server', 504]);
        expect(err.message).to.equal(`gateway timeout: no answer, so ${action} may have reached the vehicle; it was not sent again; check the vehicle before sending it again`);
        expect(api.sent, action).to.have.length(1);
      }
      expect(api.polls).to.have.length(0);
    });

    it('sends a lock that got no answer once more (locking twice is harmless), and follows the one that was answered', async () => {
      let calls = 0;
      api.sendAnswer = () => (++calls === 1 ? new ApiError('network', 'POST /v1/vehicles/x/lock timed out') : `cmd-${calls}`);
      const result = await runFor(request({ action: 'lock' }), 250);
      expect(result).to.deep.include({ status: 'success', commandId: 'cmd-2' });
      expect(api.sent.map((x) => x.command)).to.deep.equal(['lock', 'lock']);
    });

    it('a lock without an answer twice is "may have reached the vehicle", after exactly two sends', async () => {
      api.sendAnswer = new ApiError('network', 'POST /v1/vehicles/x/lock failed (ECONNRESET)');
      const t = track(runner.run(request({ action: 'lock' })));
      await clock.tickAsync(SEC);
      expect(t.error).to.be.instanceOf(CommandOutcomeUnknownError);
      expect((t.error as Error).message).to.equal(
        'POST /v1/vehicles/x/lock failed (ECONNRESET): no answer, so lock may have reached the vehicle; sent once more (locking twice is harmless), which POST /v1/vehicles/x/lock failed (ECONNRESET); check the vehicle',
      );
      expect(api.sent).to.have.length(2);
    });

    it('a lock sent once more and refused then (the server went away) is still "may have reached the vehicle": the first may have', async () => {
      let calls = 0;
      api.sendAnswer = () => (++calls === 1 ? new ApiError('network', 'POST /v1/vehicles/x/lock failed (ECONNRESET)') : new NotSentError('network', 'POST /v1/vehicles/x/lock failed (ECONNREFUSED)'));
      const t = track(runner.run(request({ action: 'lock' })));
      await clock.tickAsync(SEC);
      expect(t.error).to.be.instanceOf(CommandOutcomeUnknownError);
      expect((t.error as Error).message).to.match(/may have reached the vehicle; sent once more \(locking twice is harmless\), which POST \/v1\/vehicles\/x\/lock failed \(ECONNREFUSED\); check the vehicle$/);
      expect(api.sent).to.have.length(2);
    });

    it('never re-sends even a lock the API accepted with an answer nobody can read: it may have reached the vehicle', async () => {
      api.sendAnswer = new ApiError('bad-response', 'POST /v1/vehicles/x/lock: the API answered 202 with a body that is not JSON');
      const t = track(runner.run(request({ action: 'lock' })));
      await clock.tickAsync(SEC);
      expect(t.error).to.be.instanceOf(CommandOutcomeUnknownError);
      expect((t.error as Error).message).to.equal(
        'POST /v1/vehicles/x/lock: the API answered 202 with a body that is not JSON: the API accepted it, but its answer could not be read, so lock may have reached the vehicle; it was not sent again; check the vehicle before sending it again',
      );
      expect(api.sent).to.have.length(1);
    });

    it('a lock whose second send is answered 429 holds the vehicle\'s commands back until its Retry-After', async () => {
      let calls = 0;
      api.sendAnswer = () => (++calls === 1 ? new ApiError('server', 'POST /v1/vehicles/x/lock: the API failed with HTTP 502', 502) : new ApiError('rate-limited', 'POST /v1/vehicles/x/lock: rate limited, retry after 90 s', 429, 90));
      const t = track(runner.run(request({ action: 'lock', cooldownSeconds: 0 })));
      await clock.tickAsync(SEC);
      expect(t.error).to.be.instanceOf(CommandOutcomeUnknownError);
      expect((t.error as CommandOutcomeUnknownError).retryAfterSeconds).to.equal(90);
      const held = await refusedBy(runner.run(request({ action: 'unlock' })));
      expect(held.kind).to.equal('rate-limited');
      expect(held.message).to.match(/429/);
      expect(api.sent).to.have.length(2);
    });

    it('does not send a lock again when the failure carried a Retry-After (the API said when to come back), and holds back until then', async () => {
      api.sendAnswer = new ApiError('server', 'POST /v1/vehicles/x/lock: the API failed with HTTP 503', 503, 120);
      const t = track(runner.run(request({ action: 'lock', cooldownSeconds: 0 })));
      await clock.tickAsync(SEC);
      expect((t.error as Error).message).to.match(/may have reached the vehicle; it was not sent again/);
      expect(api.sent).to.have.length(1);
      expect((await refusedBy(runner.run(request({ action: 'lock', cooldownSeconds: 0 })))).kind).to.equal('rate-limited');
      await clock.tickAsync(120 * SEC);
      api.sendAnswer = 'cmd-ok';
      expect((await runFor(request({ action: 'lock', cooldownSeconds: 0 }), 250)).status).to.equal('success');
    });

    it('lifts the cooldown after a send that never left (connection refused, no token): nothing reached the car', async () => {
      for (const error of [new NotSentError('network', 'POST /v1/vehicles/x/startEngine failed (ECONNREFUSED)'), new ApiError('auth', 'could not get an access token: the token endpoint could not be reached')]) {
        runner.reset();
        api.sent = [];
        api.sendAnswer = error;
        const t = track(runner.run(request({ action: 'remote-start' })));
        await clock.tickAsync(SEC);
        expect(t.error, error.message).to.equal(error);
        api.sendAnswer = 'cmd-2';
        expect((await runFor(request({ action: 'remote-start' }), 250)).status, `right after: ${error.message}`).to.equal('success');
      }
    });

    it('never re-sends a lock that was refused (4xx) or never left (connection refused): those are plain failures', async () => {
      for (const error of [new ApiError('bad-request', 'POST /v1/vehicles/x/lock: no', 400), new NotSentError('network', 'POST /v1/vehicles/x/lock failed (ECONNREFUSED)')]) {
        runner.reset();
        api.sent = [];
        api.sendAnswer = error;
        const t = track(runner.run(request({ action: 'lock' })));
        await clock.tickAsync(SEC);
        expect(t.error, error.message).to.equal(error);
        expect(api.sent, error.message).to.have.length(1);
      }
    });
  });

  describe('cooldown', () => {
    it('refuses the same action on the same vehicle from the same account within its cooldown, without a request', async () => {
      await runFor(request({ action: 'unlock' }), 250);
      await clock.tickAsync(10 * SEC - 250);
      const err = await refusedBy(runner.run(request({ action: 'unlock' })));
      expect(err.kind).to.equal('rate-limited');
      expect(err.retryAfterSeconds).to.equal(20);
      expect(err.message).to.match(/10 s ago/).and.match(/in 20 s/).and.match(/cooldown 30 s/);
      // Another spelling of the same vehicle id is the same vehicle.
      expect((await refusedBy(runner.run(request({ action: 'unlock', vehicleId: ID.toUpperCase() })))).kind).to.equal('rate-limited');
      expect(api.sent).to.have.length(1);
      expect(api.polls).to.have.length(1);
    });

    it('does not block another action, another vehicle or another account', async () => {
      await runFor(request({ action: 'lock' }), 250);
      expect((await runFor(request({ action: 'unlock' }), 250)).status).to.equal('success');
      expect((await runFor(request({ action: 'lock', vehicleId: OTHER_ID }), 250)).status).to.equal('success');
      expect((await runFor(request({ action: 'lock', account: accountOf(api, { id: 'account-2' }) }), 250)).status).to.equal('success');
      expect(api.sent.map((s) => [s.vehicleId, s.command])).to.deep.equal([
        [ID, 'lock'],
        [ID, 'unlock'],
        [OTHER_ID, 'lock'],
        [ID, 'lock'],
      ]);
      expect((await refusedBy(runner.run(request({ action: 'lock' })))).kind).to.equal('rate-limited');
    });

    it('uses each action default cooldown from COMMAND_SPECS, and allows the action again once it has passed', async () => {
      for (const action of ACTIONS) {
        runner.reset();
        const start = Date.now();
        await runFor(request({ action }), 250);
        const cooldownMs = COMMAND_SPECS[action].cooldownSeconds * SEC;
        await clock.tickAsync(cooldownMs - 250 - 1);
        const err = await refusedBy(runner.run(request({ action })));
        expect(err.kind, action).to.equal('rate-limited');
        expect(err.retryAfterSeconds, action).to.equal(1);
        await clock.tickAsync(1);
        expect(Date.now() - start).to.equal(cooldownMs);
        expect((await runFor(request({ action }), 250)).status, action).to.equal('success');
      }
    });

    it('takes cooldownSeconds from the request; 0 disables it', async () => {
      await runFor(request({ action: 'remote-start', cooldownSeconds: 0 }), 250);
      await runFor(request({ action: 'remote-start', cooldownSeconds: 0 }), 250);
      await runFor(request({ action: 'remote-start', cooldownSeconds: 0 }), 250);
      expect(api.sent).to.have.length(3);

      await runFor(request({ action: 'lock', cooldownSeconds: 60 }), 250);
      await clock.tickAsync(30 * SEC);
      const err = await refusedBy(runner.run(request({ action: 'lock', cooldownSeconds: 60 })));
      expect(err.retryAfterSeconds).to.equal(30);
      expect(err.message).to.match(/cooldown 60 s/);
    });

    it('keeps a long cooldown even when other commands run in between', async () => {
      await runFor(request({ action: 'lock', cooldownSeconds: 3600 }), 250);
      await clock.tickAsync(700 * SEC);
      await runFor(request({ action: 'horn-lights' }), 250);
      const again = track(runner.run(request({ action: 'lock', cooldownSeconds: 3600 })));
      await clock.tickAsync(250);
      expect(api.sent.map((s) => s.command), 'commands sent').to.deep.equal(['lock', 'signal']);
      expect(again.error).to.be.instanceOf(CommandRefusedError);
      expect((again.error as CommandRefusedError).kind).to.equal('rate-limited');
    });

    it('starts the cooldown even when sendCommand failed (the attempt counts)', async () => {
      api.sendAnswer = new ApiError('network', 'ETIMEDOUT');
      const t = track(runner.run(request({ action: 'horn-lights' })));
      await t.promise;
      expect(t.error).to.be.instanceOf(ApiError).and.not.be.instanceOf(CommandRefusedError);
      api.sendAnswer = 'cmd-2';
      const err = await refusedBy(runner.run(request({ action: 'horn-lights' })));
      expect(err.kind).to.equal('rate-limited');
      expect(err.retryAfterSeconds).to.equal(30);
      expect(api.sent).to.have.length(1);
      await clock.tickAsync(30 * SEC);
      expect((await runFor(request({ action: 'horn-lights' }), 250)).commandId).to.equal('cmd-2');
    });

    it('reset() forgets the cooldowns', async () => {
      await runFor(request({ action: 'remote-start' }), 250);
      await refusedBy(runner.run(request({ action: 'remote-start' })));
      runner.reset();
      expect((await runFor(request({ action: 'remote-start' }), 250)).status).to.equal('success');
      expect(api.sent).to.have.length(2);
    });

    it('keeps cooldowns per runner', async () => {
      await runFor(request(), 250);
      const other = new CommandRunner();
      const t = track(other.run(request()));
      await clock.tickAsync(250);
      expect(t.value?.status).to.equal('success');
      expect(api.sent).to.have.length(2);
    });
  });

  describe('coalescing', () => {
    it('folds identical concurrent runs into one sendCommand; joiners resolve coalesced with the same commandId', async () => {
      api.states = ['pending', 'pending', 'completed'];
      const first = track(runner.run(request({ action: 'unlock' })));
      const second = track(runner.run(request({ action: 'unlock' })));
      const third = track(runner.run(request({ action: 'unlock', vehicleId: ID.toUpperCase() })));
      await clock.tickAsync(500);
      // One that arrives while the command is being followed joins too (instead of meeting the cooldown).
      const late = track(runner.run(request({ action: 'unlock' })));
      await clock.tickAsync(5 * SEC);
      for (const t of [first, second, third, late]) expect(t.settled).to.equal(true);
      expect(api.sent).to.have.length(1);
      expect(api.polls).to.have.length(3);
      expect(first.value).to.deep.include({ status: 'success', commandId: 'cmd-1', coalesced: false });
      for (const t of [second, third, late]) expect(t.value).to.deep.include({ status: 'success', commandId: 'cmd-1', coalesced: true, durationMs: first.value!.durationMs });
    });

    it('joiners share the rejection when sendCommand fails', async () => {
      const error = new ApiError('bad-request', 'refused', 400);
      api.sendAnswer = error;
      api.sendDelayMs = 100;
      const runs = [track(runner.run(request())), track(runner.run(request())), track(runner.run(request()))];
      await clock.tickAsync(100);
      for (const t of runs) expect(t.error).to.equal(error);
      expect(api.sent).to.have.length(1);
    });

    it('runs lock and unlock concurrently as two commands', async () => {
      const lock = track(runner.run(request({ action: 'lock' })));
      const unlock = track(runner.run(request({ action: 'unlock' })));
      await clock.tickAsync(250);
      expect(api.sent.map((s) => s.command)).to.deep.equal(['lock', 'unlock']);
      expect(lock.value).to.deep.include({ action: 'lock', commandId: 'cmd-1', coalesced: false });
      expect(unlock.value).to.deep.include({ action: 'unlock', commandId: 'cmd-2', coalesced: false });
    });

    it('does not fold the same action across vehicles or accounts', async () => {
      const runs = [track(runner.run(request())), track(runner.run(request({ vehicleId: OTHER_ID }))), track(runner.run(request({ account: accountOf(api, { id: 'account-2' }) })))];
      await clock.tickAsync(250);
      expect(api.sent).to.have.length(3);
      expect(new Set(runs.map((t) => t.value?.commandId)).size).to.equal(3);
      for (const t of runs) expect(t.value?.coalesced).to.equal(false);
    });

    it('sends afresh once the earlier command has finished', async () => {
      await runFor(request({ cooldownSeconds: 0 }), 250);
      const again = await runFor(request({ cooldownSeconds: 0 }), 250);
      expect(again).to.deep.include({ commandId: 'cmd-2', coalesced: false });
      expect(api.sent).to.have.length(2);
    });
  });

  describe('stateAfterCommand', () => {
    it('keeps only what a command changes: lock, and engine / charging when reported', () => {
      const full: VehicleStatus = {
        vehicleId: ID,
        lock: 'locked',
        fuel: { level: 50 },
        odometerKm: 1234,
        engine: { running: true, remainingMinutes: 12 },
        charging: { plugged: true, status: 'charging', power: 'ac' },
      };
      expect(stateAfterCommand(full)).to.deep.equal({ lock: 'locked', engine: { running: true, remainingMinutes: 12 }, charging: { plugged: true, status: 'charging', power: 'ac' } });
      expect(stateAfterCommand({ vehicleId: ID, lock: 'unknown', fuel: { level: 10 } })).to.deep.equal({ lock: 'unknown' });
    });
  });
});
