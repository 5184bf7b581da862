import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ApiError } from '../lib/api/errors';
import { distanceMetres, roundPosition, type VehicleLocation } from '../lib/api/status';
import { vehicleHubs, type LocationReading } from '../lib/vehicle-hub';
import type { AuthState } from '../lib/oauth/token-manager';
import { accountStateStatus, age, errorText, findAccount, outcomeOf, safeError, sendAudit, subscribeConfiguredVehicle, vehicleIdFor, InputReads, vehicleTopic, type Send, type VehicleNodeBase } from './vehicle-node';

interface FordLocationDef extends NodeDef {
  account: string;
  vehicleId: string;
  optIn: boolean;
  interval: number | string;
  precision: number | string;
  output: 'always' | 'changes';
  minDistance: number | string;
}

export = function register(RED: NodeAPI): void {
  function FordLocationNode(this: Node, config: FordLocationDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const optIn = config.optIn === true;
    const interval = Math.max(0, Number(config.interval) || 0);
    const precision = Math.max(0, Number(config.precision) || 0);
    const changesOnly = config.output === 'changes';
    const minDistance = Math.max(0, Number(config.minDistance) || 0);
    const base: VehicleNodeBase = { node, nodeType: 'ford-location', account: findAccount(RED, config.account), configuredVehicleId: config.vehicleId ?? '' };
    let unsubscribe: (() => void) | undefined;
    const lastSent = new Map<string, VehicleLocation>();
    // Per vehicle: a read of another vehicle (msg.vehicleId) must not hold back or skew this one's polls.
    const inputReads = new InputReads();
    let deniedReported = false;

    /** Why this node may not read a position right now, or undefined when it may. */
    const refusal = (): string | undefined => {
      const account = base.account?.account;
      if (!optIn) return 'location sharing is not opted in on this node';
      if (!account) return 'no ford-account is configured';
      if (account.state !== 'authorized') return account.state === 'reauth-needed' ? 'the account is waiting for re-authorization' : 'the account is not authorized';
      if (!account.can('read:location')) return 'read:location is not ticked in the account or not granted by the owner';
      return undefined;
    };

    // Coordinates leave only on output 1, rounded as configured; never in status, audit or logs.
    const deliver = (reading: LocationReading, send: Send, msg: NodeMessageInFlow | undefined, forced: boolean, vehicleId: string): void => {
      const location = roundPosition(reading.location, precision);
      const previous = lastSent.get(vehicleId);
      const moved = previous ? distanceMetres(previous, location) : Infinity;
      node.status({ fill: 'green', shape: 'dot', text: `position ${age(Date.now() - (location.time ? Date.parse(location.time) : reading.fetchedAt))}` });
      sendAudit(base, send, { vehicleId, action: 'location.read', scope: 'read:location', outcome: 'ok', detail: precision > 0 ? `position delivered, rounded to ${precision} m` : 'position delivered' });
      if (changesOnly && !forced && moved < Math.max(minDistance, 1)) return;
      lastSent.set(vehicleId, location);
      send([{ ...(msg ?? {}), topic: vehicleTopic(undefined, vehicleId, 'location'), vehicleId, payload: location } as NodeMessageInFlow, null]);
    };

    const fail = (err: unknown, send: Send, vehicleId: string | undefined): void => {
      const text = errorText(err);
      if (err instanceof ApiError && err.kind === 'rate-limited') node.status({ fill: 'yellow', shape: 'ring', text: 'rate limited' });
      else node.status({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      sendAudit(base, send, { vehicleId, action: 'location.read', scope: 'read:location', outcome: outcomeOf(err), detail: text, httpStatus: err instanceof ApiError ? err.httpStatus : undefined });
    };

    const evaluate = (state: AuthState): void => {
      const account = base.account?.account;
      const why = refusal();
      if (why || !account) {
        unsubscribe?.();
        unsubscribe = undefined;
        node.status(accountStateStatus(state) ?? { fill: 'red', shape: 'ring', text: optIn ? 'read:location not granted' : 'not opted in' });
        if (!deniedReported && state === 'authorized') {
          deniedReported = true;
          sendAudit(base, undefined, { vehicleId: base.configuredVehicleId, action: 'location.read', scope: 'read:location', outcome: 'denied', detail: why ?? 'refused' });
        }
        return;
      }
      deniedReported = false;
      if (unsubscribe) return;
      unsubscribe = subscribeConfiguredVehicle<'location'>(base, account, interval, (vehicleId) => ({
        kind: 'location',
        action: 'location.read',
        scope: 'read:location',
        onReading: (reading) => deliver(reading, (m) => node.send(m), undefined, false, vehicleId),
        onFailure: (err) => fail(err, (m) => node.send(m), vehicleId),
        busy: () => inputReads.busy(vehicleId),
      }));
    };

    const dependent = { onAccountState: evaluate };
    if (!base.account) node.status({ fill: 'red', shape: 'ring', text: 'no ford-account configured' });
    else base.account.register(dependent);

    node.on('input', (msg: NodeMessageInFlow & { vehicleId?: unknown }, nodeSend: unknown, done: (err?: Error) => void) => {
      const send = nodeSend as Send;
      let vehicleId: string;
      try {
        vehicleId = vehicleIdFor(msg, base.configuredVehicleId);
      } catch (err) {
        fail(err, send, undefined);
        done(safeError(err));
        return;
      }
      const why = refusal();
      const account = base.account?.account;
      if (why || !account) {
        const err = new ApiError('scope', `ford-location: ${why ?? 'refused'}`);
        node.status({ fill: 'red', shape: 'ring', text: optIn ? 'read:location not granted' : 'not opted in' });
        sendAudit(base, send, { vehicleId, action: 'location.read', scope: 'read:location', outcome: 'denied', detail: err.message });
        done(err);
        return;
      }
      inputReads.track(vehicleId, vehicleHubs.read(account, vehicleId, 'location', interval > 0 ? interval : 30)).then(
        (reading) => {
          deliver(reading, send, msg, true, vehicleId);
          done();
        },
        (err: unknown) => {
          fail(err, send, vehicleId);
          done(safeError(err));
        },
      );
    });

    node.on('close', (done: () => void) => {
      unsubscribe?.();
      unsubscribe = undefined;
      base.account?.deregister(dependent);
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('ford-location', FordLocationNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
