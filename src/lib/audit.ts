import fs from 'node:fs';
import path from 'node:path';
import { maskVehicle, redactText } from './mask';

/** DESIGN.md "Audit record": msg.payload on every node's second output. */
export type AuditAction =
  | 'status.read'
  | 'status.refresh'
  | 'location.read'
  | 'lock'
  | 'unlock'
  | 'remote-start'
  | 'remote-stop'
  | 'horn-lights'
  | 'charge.start'
  | 'charge.stop'
  | 'token.refresh'
  | 'auth.grant'
  | 'auth.revoked';

export type AuditOutcome = 'ok' | 'denied' | 'failed' | 'rate-limited' | 'pending-confirmation' | 'timeout';

export interface AuditRecord {
  time: string;
  nodeId: string;
  nodeType: string;
  nodeName: string;
  vehicle: string;
  action: AuditAction;
  scope: string;
  outcome: AuditOutcome;
  detail: string;
  httpStatus?: number;
  durationMs?: number;
  commandId?: string;
}

export interface AuditInput {
  nodeId: string;
  nodeType: string;
  nodeName?: string;
  /** Raw vehicle id or VIN: masked here, so callers cannot forget. */
  vehicleId?: string;
  action: AuditAction;
  scope?: string;
  outcome: AuditOutcome;
  detail: string;
  httpStatus?: number;
  durationMs?: number;
  commandId?: string;
}

export function auditRecord(input: AuditInput, now: Date = new Date()): AuditRecord {
  const record: AuditRecord = {
    time: now.toISOString(),
    nodeId: input.nodeId,
    nodeType: input.nodeType,
    nodeName: input.nodeName ?? '',
    vehicle: maskVehicle(input.vehicleId),
    action: input.action,
    scope: input.scope ?? '',
    outcome: input.outcome,
    detail: redactText(input.detail),
  };
  if (input.httpStatus !== undefined) record.httpStatus = input.httpStatus;
  if (input.durationMs !== undefined) record.durationMs = input.durationMs;
  if (input.commandId !== undefined) record.commandId = input.commandId;
  return record;
}

/** The last records in memory, for the editor. */
export class AuditRing {
  private readonly items: AuditRecord[] = [];

  constructor(private readonly capacity = 200) {}

  add(record: AuditRecord): void {
    this.items.push(record);
    if (this.items.length > this.capacity) this.items.shift();
  }

  /** Newest first. */
  list(): AuditRecord[] {
    return [...this.items].reverse();
  }
}

/**
 * Appends records to a JSON Lines file. Writes are serialised so lines never
 * interleave; a failed write is reported, not thrown, so auditing never stops
 * a flow.
 */
export class AuditFile {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  append(record: AuditRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    this.queue = this.queue.then(async () => {
      try {
        await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
        await fs.promises.appendFile(this.file, line, { mode: 0o600 });
      } catch (err) {
        this.onError(err as Error);
      }
    });
    return this.queue;
  }

  flush(): Promise<void> {
    return this.queue;
  }
}
