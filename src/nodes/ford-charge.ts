import type { NodeAPI, NodeMessageInFlow } from 'node-red';
import { ApiError } from '../lib/api/errors';
import { normaliseEngineType, plugsIn, type VehicleStatus } from '../lib/api/status';
import { CommandRefusedError } from '../lib/commands';
import { vehicleHubs, type StatusReading } from '../lib/vehicle-hub';
import { registerCommandNode, type ExtensionContext, type CommandNodeExtension } from './command-node';
import { errorText, outcomeOf, safeError, sendAudit, subscribeToHub, vehicleIdFor, vehicleTopic, type Send } from './vehicle-node';

/** How old a status may be to decide whether the vehicle can charge (engine type does not change). */
const ENGINE_TYPE_MAX_AGE_SECONDS = 24 * 3600;

/** "charging · 62% · target in 35 min", from the hub's status. */
function chargingText(status: VehicleStatus, now: number): string | undefined {
  const c = status.charging;
  if (!c) return undefined;
  const level = status.battery?.level;
  const pct = level === undefined ? '' : ` · ${Math.round(level)}%`;
  if (c.status !== 'charging') return `${c.status.replace('-', ' ')}${pct}`;
  let minutes = c.minutesToFull;
  if (minutes === undefined && c.endTime) minutes = Math.max(0, Math.round((Date.parse(c.endTime) - now) / 60_000));
  return `charging${pct}${minutes !== undefined && Number.isFinite(minutes) ? ` · target in ${minutes} min` : ''}`;
}

function chargeExtension({ node, base, config, setStatus, busy }: ExtensionContext): CommandNodeExtension {
  const interval = Math.max(0, Number((config as { interval?: unknown }).interval ?? 300) || 0);
  let unsubscribe: (() => void) | undefined;

  const showCharging = (reading: StatusReading): void => {
    sendAudit(base, undefined, { vehicleId: reading.status.vehicleId, action: 'status.read', scope: 'read:status', outcome: 'ok', detail: 'charging state for the node status' });
    if (busy()) return;
    const text = chargingText(reading.status, Date.now());
    if (text) setStatus({ fill: reading.status.charging?.status === 'charging' ? 'green' : 'grey', shape: 'dot', text });
  };

  /** The charge state in the node status, from the hub's shared poll (no poll of its own). */
  const watch = (): void => {
    const account = base.account?.account;
    if (unsubscribe || !account || account.state !== 'authorized' || !account.can('read:status') || !base.configuredVehicleId || interval === 0) return;
    let vehicleId: string;
    try {
      vehicleId = vehicleIdFor(undefined, base.configuredVehicleId);
    } catch {
      return;
    }
    unsubscribe = subscribeToHub(base, account, vehicleId, {
      kind: 'status',
      action: 'status.read',
      scope: 'read:status',
      intervalSeconds: interval,
      onReading: showCharging,
      onFailure: () => undefined,
      busy: () => false,
    });
  };

  const schedules = (msg: NodeMessageInFlow & { vehicleId?: unknown }, send: Send, done: (err?: Error) => void): void => {
    const account = base.account?.account;
    let vehicleId: string | undefined;
    const fail = (err: unknown): void => {
      setStatus({ fill: 'red', shape: 'ring', text: errorText(err).slice(0, 60) });
      sendAudit(base, send, { vehicleId, action: 'status.read', scope: 'read:status', outcome: outcomeOf(err), detail: `charge schedules: ${errorText(err)}`, httpStatus: err instanceof ApiError ? err.httpStatus : undefined });
      done(safeError(new Error(`ford-charge: ${errorText(err)}`)));
    };
    try {
      vehicleId = vehicleIdFor(msg, base.configuredVehicleId);
      if (!account) throw new ApiError('reauth', 'no ford-account is configured');
      if (account.state !== 'authorized') throw new ApiError('reauth', account.state === 'reauth-needed' ? 'the account is waiting for re-authorization' : 'the account is not authorized');
      if (!account.can('read:status')) throw new ApiError('scope', 'read:status is not ticked in the account or not granted by the owner', undefined, undefined, 'read:status');
    } catch (err) {
      fail(err);
      return;
    }
    const id = vehicleId;
    account
      .vehicleApi()
      .getChargeSchedules(id)
      .then(
        (payload) => {
          sendAudit(base, send, { vehicleId: id, action: 'status.read', scope: 'read:status', outcome: 'ok', detail: `charge schedules: ${payload.schedules.length} schedule(s)${payload.nextDeparture ? ', next departure set' : ''}` });
          send([{ ...msg, topic: vehicleTopic(undefined, id, 'schedules'), vehicleId: id, payload } as NodeMessageInFlow, null]);
          done();
        },
        (err: unknown) => fail(err instanceof ApiError && err.kind === 'not-acceptable' ? new ApiError('not-acceptable', `${err.message}: this vehicle has no charge schedules (it does not plug in)`, err.httpStatus) : err),
      );
  };

  return {
    input: (msg, send, done) => {
      if (msg.topic !== 'schedules') return false;
      schedules(msg, send, done);
      return true;
    },
    /** An ICE or HEV cannot charge: say so before the API is asked (it would answer 406). */
    beforeSend: async (account, vehicleId) => {
      if (!account.can('read:status')) return; // Without the status, the API's 406 decides.
      const asked = Date.now();
      const reading = await vehicleHubs.read(account, vehicleId, 'status', ENGINE_TYPE_MAX_AGE_SECONDS).catch(() => undefined);
      if (!reading) return;
      // A reading fetched for this check is a data access of its own; a cached one was audited when it came.
      if (reading.fetchedAt >= asked) sendAudit(base, undefined, { vehicleId, action: 'status.read', scope: 'read:status', outcome: 'ok', detail: 'engine type, to tell whether the vehicle can charge' });
      const type = normaliseEngineType(reading.status.engineType);
      if (!plugsIn(type, reading.status.battery)) {
        throw new CommandRefusedError('not-acceptable', `this vehicle cannot charge: its engine type is ${type ?? 'unknown'} and it reports no traction battery; charging needs an EV, BEV or PHEV`);
      }
    },
    onAccountState: (state) => {
      if (state === 'authorized') watch();
      else {
        unsubscribe?.();
        unsubscribe = undefined;
      }
    },
    close: () => {
      unsubscribe?.();
      unsubscribe = undefined;
      node.status({});
    },
  };
}

/**
 * Start and stop charging (scope command:charge), and the charge schedules
 * and next departure time on `msg.topic = "schedules"` (scope read:status).
 */
export = function register(RED: NodeAPI): void {
  registerCommandNode(RED, {
    type: 'ford-charge',
    actions: { start: 'charge.start', stop: 'charge.stop' },
    extend: chargeExtension,
    onResult: ({ result, state, setStatus }) => {
      const level = state?.battery?.level;
      setStatus({ fill: 'green', shape: 'dot', text: `${result.action === 'charge.start' ? 'charging started' : 'charging stopped'}${level === undefined ? '' : ` · ${Math.round(level)}%`}` });
    },
  });
};
