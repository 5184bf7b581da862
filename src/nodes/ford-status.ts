import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ApiError } from '../lib/api/errors';
import { changedFields, type VehicleStatus } from '../lib/api/status';
import { vehicleHubs, type StatusReading } from '../lib/vehicle-hub';
import type { AuthState } from '../lib/oauth/token-manager';
import { accountStateStatus, age, errorText, findAccount, outcomeOf, safeError, sendAudit, subscribeConfiguredVehicle, vehicleIdFor, InputReads, vehicleTopic, type Send, type VehicleNodeBase } from './vehicle-node';

interface FordStatusDef extends NodeDef {
  account: string;
  vehicleId: string;
  interval: number | string;
  output: 'always' | 'changes';
}


function statusText(status: VehicleStatus, fetchedAt: number): string {
  const level = status.battery?.level ?? status.fuel?.level;
  const parts = [status.lock, level === undefined ? undefined : `${Math.round(level)}%`, age(Date.now() - (status.lastUpdated ? Date.parse(status.lastUpdated) : fetchedAt))];
  return parts.filter(Boolean).join(' · ');
}

export = function register(RED: NodeAPI): void {
  function FordStatusNode(this: Node, config: FordStatusDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const interval = Math.max(0, Number(config.interval) || 0);
    const changesOnly = config.output === 'changes';
    const base: VehicleNodeBase = { node, nodeType: 'ford-status', account: findAccount(RED, config.account), configuredVehicleId: config.vehicleId ?? '' };
    let unsubscribe: (() => void) | undefined;
    // Change detection is per vehicle: msg.vehicleId reads must not become another vehicle's baseline.
    const previous = new Map<string, VehicleStatus>();
    // Per vehicle: a read of another vehicle (msg.vehicleId) must not hold back or skew this one's polls.
    const inputReads = new InputReads();
    let deniedReported = false;

    /** Output 1, and its audit record; in change-only mode nothing when nothing changed. */
    const deliver = (reading: StatusReading, send: Send, msg: NodeMessageInFlow | undefined, forced: boolean): void => {
      const changed = changedFields(previous.get(reading.status.vehicleId), reading.status);
      previous.set(reading.status.vehicleId, reading.status);
      node.status({ fill: 'green', shape: 'dot', text: statusText(reading.status, reading.fetchedAt) });
      sendAudit(base, send, { vehicleId: reading.status.vehicleId, action: 'status.read', scope: 'read:status', outcome: 'ok', detail: changesOnly ? `${changed.length} field(s) changed` : 'status delivered' });
      if (changesOnly && changed.length === 0 && !forced) return;
      const out = { ...(msg ?? {}), topic: vehicleTopic(reading.status.name, reading.status.vehicleId, 'status'), payload: reading.status, raw: reading.raw } as NodeMessageInFlow & { changed?: string[] };
      if (changesOnly) out.changed = changed;
      send([out, null]);
    };

    const fail = (err: unknown, send: Send, vehicleId: string | undefined, action: 'status.read' | 'status.refresh'): void => {
      const text = errorText(err);
      if (err instanceof ApiError && err.kind === 'rate-limited') node.status({ fill: 'yellow', shape: 'ring', text: 'rate limited' });
      else if (!(err instanceof ApiError && err.kind === 'reauth')) node.status({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      sendAudit(base, send, { vehicleId, action, scope: 'read:status', outcome: outcomeOf(err), detail: text, httpStatus: err instanceof ApiError ? err.httpStatus : undefined });
    };

    /** Polls only while authorized, granted and configured; otherwise says why on the node. */
    const evaluate = (state: AuthState): void => {
      const account = base.account?.account;
      if (!account) return;
      const stateStatus = accountStateStatus(state);
      if (stateStatus) {
        node.status(stateStatus);
        return;
      }
      if (!account.can('read:status')) {
        unsubscribe?.();
        unsubscribe = undefined;
        node.status({ fill: 'red', shape: 'ring', text: 'read:status not granted' });
        if (!deniedReported) {
          deniedReported = true;
          sendAudit(base, undefined, { vehicleId: base.configuredVehicleId, action: 'status.read', scope: 'read:status', outcome: 'denied', detail: 'read:status is not ticked in the account or not granted by the owner' });
        }
        return;
      }
      deniedReported = false;
      if (unsubscribe) return;
      unsubscribe = subscribeConfiguredVehicle<'status'>(base, account, interval, (vehicleId) => ({
        kind: 'status',
        action: 'status.read',
        scope: 'read:status',
        onReading: (reading) => deliver(reading, (m) => node.send(m), undefined, false),
        onFailure: (err) => fail(err, (m) => node.send(m), vehicleId, 'status.read'),
        busy: () => inputReads.busy(vehicleId),
      }));
    };

    const dependent = { onAccountState: evaluate };
    if (!base.account) {
      node.status({ fill: 'red', shape: 'ring', text: 'no ford-account configured' });
    } else {
      base.account.register(dependent);
    }

    node.on('input', (msg: NodeMessageInFlow & { vehicleId?: unknown; refresh?: unknown }, nodeSend: unknown, done: (err?: Error) => void) => {
      const send = nodeSend as Send;
      const account = base.account?.account;
      const action = msg.refresh === true ? 'status.refresh' : 'status.read';
      if (!account) {
        node.status({ fill: 'red', shape: 'ring', text: 'no ford-account configured' });
        done(new Error('ford-status: no ford-account is configured'));
        return;
      }
      let vehicleId: string;
      try {
        vehicleId = vehicleIdFor(msg, base.configuredVehicleId);
      } catch (err) {
        fail(err, send, undefined, action);
        done(safeError(err));
        return;
      }
      if (account.state !== 'authorized' || !account.can('read:status')) {
        const err = new ApiError(account.state === 'authorized' ? 'scope' : 'reauth', account.state === 'authorized' ? 'ford-status: read:status is not ticked in the account or not granted by the owner' : `ford-status: the account is ${account.state === 'reauth-needed' ? 'waiting for re-authorization' : 'not authorized'}`);
        node.status(accountStateStatus(account.state) ?? { fill: 'red', shape: 'ring', text: 'read:status not granted' });
        sendAudit(base, send, { vehicleId, action, scope: 'read:status', outcome: 'denied', detail: err.message });
        done(err);
        return;
      }
      const reading: Promise<StatusReading> =
        msg.refresh === true
          ? vehicleHubs.refresh(account, vehicleId).then((outcome) => {
              if (!outcome.status) throw new ApiError('server', `the vehicle did not report afresh (${outcome.outcome})`);
              sendAudit(base, send, { vehicleId, action: 'status.refresh', scope: 'read:status', outcome: 'ok', detail: `vehicle reported afresh (${outcome.outcome})`, commandId: outcome.commandId });
              return outcome.status;
            })
          : vehicleHubs.read(account, vehicleId, 'status', interval > 0 ? interval : 30);
      inputReads.track(vehicleId, reading).then(
        (r) => {
          deliver(r, send, msg, true);
          done();
        },
        (err: unknown) => {
          fail(err, send, vehicleId, action);
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

  RED.nodes.registerType('ford-status', FordStatusNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
