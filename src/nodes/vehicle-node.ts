import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import type { AuditInput, AuditRecord } from '../lib/audit';
import { maskVehicle, redactText } from '../lib/mask';
import type { AuthState } from '../lib/oauth/token-manager';
import { vehicleHubs, type HubKind, type HubWaiting, type LocationReading, type StatusReading } from '../lib/vehicle-hub';
import type { FordAccount } from '../lib/account';
import { ApiError } from '../lib/api/errors';
import { isVehicleId } from '../lib/api/vehicle-api';
import type { FordAccountNode } from './account-node';

/**
 * What every vehicle node does the same way: find its account, pick the
 * vehicle, send an audit record on output 2, and turn errors and the account's
 * state into node status (the OutputController idea of STYLE.md, written once).
 */

export type Send = (msg: Array<NodeMessage | null>) => void;

export interface VehicleNodeBase {
  node: Node;
  nodeType: string;
  account?: FordAccountNode;
  configuredVehicleId: string;
}

export function findAccount(RED: NodeAPI, id: unknown): FordAccountNode | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  const node = RED.nodes.getNode(id) as FordAccountNode | null;
  return node && node.type === 'ford-account' && node.account ? node : undefined;
}

/**
 * The vehicle a message is about: `msg.vehicleId` overrides the configured
 * one, and anything that is not a vehicle id is refused before a URL is built.
 */
export function vehicleIdFor(msg: { vehicleId?: unknown } | undefined, configured: string): string {
  const wanted = msg && msg.vehicleId !== undefined ? msg.vehicleId : configured;
  if (wanted === '' || wanted === undefined) throw new ApiError('bad-request', 'no vehicle selected: choose one in the node or set msg.vehicleId');
  if (!isVehicleId(wanted)) throw new ApiError('bad-request', 'msg.vehicleId is not a vehicle id (32 hexadecimal characters)');
  return wanted;
}

/** Records the audit entry at the account and sends it on output 2. */
export function sendAudit(base: VehicleNodeBase, send: Send | undefined, input: Omit<AuditInput, 'nodeId' | 'nodeType' | 'nodeName'>): AuditRecord | undefined {
  const account = base.account?.account;
  if (!account) return undefined;
  const record = account.audit({ ...input, nodeId: base.node.id, nodeType: base.nodeType, nodeName: base.node.name });
  const msg = { topic: 'ford/audit', payload: record } as NodeMessage;
  if (send) send([null, msg]);
  else base.node.send([null, msg]);
  return record;
}

export function accountStateStatus(state: AuthState): NodeStatus | undefined {
  if (state === 'reauth-needed') return { fill: 'red', shape: 'ring', text: 're-authorization needed' };
  if (state === 'unauthorized') return { fill: 'red', shape: 'ring', text: 'not authorized' };
  return undefined;
}

/** What the audit outcome of an API error is. */
export function outcomeOf(err: unknown): AuditInput['outcome'] {
  if (err instanceof ApiError) {
    if (err.kind === 'scope' || err.kind === 'reauth' || err.kind === 'forbidden' || err.kind === 'step-up') return 'denied';
    if (err.kind === 'rate-limited') return 'rate-limited';
  }
  return 'failed';
}

/** An error's message with secrets removed and vehicle ids masked: safe for status, audit and logs. */
export function errorText(err: unknown): string {
  return redactText(err instanceof Error ? err.message : String(err));
}

/** The error handed to done(): the same masked text, so the log never holds a full id. */
export function safeError(err: unknown): Error {
  return new Error(errorText(err));
}

/** "just now", "3 min ago", "2 h ago": short enough for a node status. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 16) + ' UTC';
}

/** `ford/<vehicle name>/<what>`, with a name safe for MQTT-style topics. */
export function vehicleTopic(name: string | undefined, vehicleId: string, what: string): string {
  const label = (name ?? maskVehicle(vehicleId).replace('…', '')).trim().replace(/[\s/#+]+/g, '-');
  return `ford/${label || 'vehicle'}/${what}`;
}

/** Yellow while the hub waits (Retry-After, backoff), red ring while re-authorization is needed. */
export function waitingStatus(waiting: HubWaiting): NodeStatus {
  if (waiting.reason === 'reauth') return { fill: 'red', shape: 'ring', text: 're-authorization needed' };
  return { fill: 'yellow', shape: 'ring', text: `${waiting.reason === 'rate-limited' ? 'rate limited' : 'retrying'}${waiting.until ? ` until ${clockTime(waiting.until)}` : ''}` };
}

export interface HubBinding<K extends HubKind> {
  kind: K;
  action: 'status.read' | 'location.read';
  scope: 'read:status' | 'read:location';
  intervalSeconds: number;
  /** A polled reading for this node. */
  onReading(reading: K extends 'status' ? StatusReading : LocationReading): void;
  /** A failed poll (already on the node's status and audit path). */
  onFailure(err: ApiError): void;
  /** True while an input read of this vehicle is in flight: it audits and delivers its own result. */
  busy(): boolean;
}

/**
 * Reads that input messages asked for, per vehicle. While one is under way
 * the poll's copy of the same reading is not sent as well: the input's answer
 * carries it.
 */
export class InputReads {
  private readonly underWay = new Map<string, number>();

  busy(vehicleId: string): boolean {
    return (this.underWay.get(vehicleId) ?? 0) > 0;
  }

  track<T>(vehicleId: string, reading: Promise<T>): Promise<T> {
    this.underWay.set(vehicleId, (this.underWay.get(vehicleId) ?? 0) + 1);
    return reading.finally(() => {
      const left = (this.underWay.get(vehicleId) ?? 1) - 1;
      if (left > 0) this.underWay.set(vehicleId, left);
      else this.underWay.delete(vehicleId);
    });
  }
}

/**
 * Subscribes a polling node to the hub of its configured vehicle, or shows
 * on the node why it cannot (no vehicle picked, an id that is not one).
 */
export function subscribeConfiguredVehicle<K extends HubKind>(
  base: VehicleNodeBase,
  account: FordAccount,
  intervalSeconds: number,
  binding: (vehicleId: string) => Omit<HubBinding<K>, 'intervalSeconds'>,
): (() => void) | undefined {
  if (!base.configuredVehicleId) {
    base.node.status({ fill: 'grey', shape: 'ring', text: intervalSeconds === 0 ? 'reads on input' : 'no vehicle selected' });
    return undefined;
  }
  let vehicleId: string;
  try {
    vehicleId = vehicleIdFor(undefined, base.configuredVehicleId);
  } catch (err) {
    base.node.status({ fill: 'red', shape: 'ring', text: errorText(err).slice(0, 60) });
    return undefined;
  }
  // With interval 0 the subscription polls nothing, but keeps the hub's cache and any Retry-After alive.
  if (intervalSeconds === 0) base.node.status({ fill: 'grey', shape: 'ring', text: 'reads on input' });
  return subscribeToHub(base, account, vehicleId, { ...binding(vehicleId), intervalSeconds });
}

/** Subscribes a node to its vehicle's hub: readings, errors, and one audit record per 429. */
export function subscribeToHub<K extends HubKind>(base: VehicleNodeBase, account: FordAccount, vehicleId: string, binding: HubBinding<K>): () => void {
  let lastRateLimitAudit: number | undefined;
  const onReading = (reading: StatusReading | LocationReading): void => {
    if (!binding.busy()) binding.onReading(reading as K extends 'status' ? StatusReading : LocationReading);
  };
  return vehicleHubs.subscribe(account, vehicleId, {
    wants: binding.kind,
    intervalSeconds: binding.intervalSeconds,
    onStatus: onReading,
    onLocation: onReading,
    onError: (err) => {
      binding.onFailure(err);
      base.node.error(`${base.nodeType}: ${errorText(err)}`);
    },
    onWaiting: (waiting) => {
      // The hub repeats a wait to nodes that join later: one record per 429.
      if (waiting.reason === 'rate-limited' && waiting.error && waiting.until !== lastRateLimitAudit && !binding.busy()) {
        lastRateLimitAudit = waiting.until;
        sendAudit(base, undefined, { vehicleId, action: binding.action, scope: binding.scope, outcome: 'rate-limited', detail: errorText(waiting.error), httpStatus: waiting.error.httpStatus });
      }
      base.node.status(waitingStatus(waiting));
    },
  });
}
