import { createHmac, randomBytes } from 'node:crypto';
import type { SimClock } from '../clock';
import type { SeededRandom } from '../random';
import { execute, isSupported, type CommandContext, type CommandKind, type CommandRecord } from './commands';
import { applyPatch } from './patch';
import { Vehicle, type VehicleSpec, type VehicleState } from './vehicle';

export interface FleetSettings {
  /** Simulated ms a command stays PENDINGRESPONSE. */
  commandDelayMs: number;
  remoteStartMinutes: number;
  /** Simulated ms a command id stays readable. */
  commandIdTtlMs: number;
  /** Fault injection: the modem does not answer. */
  isOffline(vehicleId: string): boolean;
  /**
   * Key mixed into every command id. Unset: a random key per fleet, so ids
   * cannot be predicted from the seed or from one's own ids. Set only to
   * reproduce ids across runs (tests).
   */
  commandIdKey?: string;
}

/** Who may read a command's result: its kind (the path polled) and who issued it. */
export interface CommandQuery {
  kind: CommandKind;
  /** The caller's app and owner; undefined only finds commands issued without a caller. */
  issuer?: { clientId: string; ownerId: string };
}

export type IssueResult = { ok: true; command: CommandRecord } | { ok: false; reason: 'unknown-vehicle' | 'not-supported' };

export type CommandSettledListener = (command: CommandRecord, vehicle: Vehicle) => void;

const VEHICLE_ID = /^[0-9a-f]{32}$/;

/**
 * Every simulated vehicle, once. Reads bring a vehicle's state up to the
 * simulated clock first (lazy integration), settling any command that fell
 * due on the way, in time order; timers only nudge that along for people
 * watching in real time, tests need none.
 */
export class Fleet {
  private readonly vehicles = new Map<string, Vehicle>();
  private readonly commands = new Map<string, CommandRecord>();
  private readonly listeners: CommandSettledListener[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly commandIdKey: string | Buffer;
  private stopped = false;

  constructor(
    readonly clock: SimClock,
    /** Shared with the world: ids, VINs and fault draws come from one seeded stream. */
    readonly random: SeededRandom,
    readonly settings: FleetSettings,
  ) {
    this.commandIdKey = settings.commandIdKey ?? randomBytes(32);
  }

  /** A fresh id from the seeded generator, so runs with one seed agree. */
  newVehicleId(): string {
    let id = this.random.hex(32);
    while (this.vehicles.has(id)) id = this.random.hex(32);
    return id;
  }

  /** Adds a vehicle; its state starts at the current simulated time. */
  add(spec: VehicleSpec, initial: Omit<VehicleState, 'time'>): Vehicle {
    if (!VEHICLE_ID.test(spec.id)) throw new RangeError(`vehicle id must be 32 lowercase hex characters: ${spec.id}`);
    if (this.vehicles.has(spec.id)) throw new RangeError(`duplicate vehicle id ${spec.id}`);
    const vehicle = new Vehicle(spec, { ...initial, time: this.clock.now() });
    this.vehicles.set(spec.id, vehicle);
    return vehicle;
  }

  get(vehicleId: string): Vehicle | undefined {
    const vehicle = this.vehicles.get(vehicleId);
    if (vehicle) this.sync(vehicle);
    return vehicle;
  }

  list(): Vehicle[] {
    return [...this.vehicles.values()].map((v) => {
      this.sync(v);
      return v;
    });
  }

  ownedBy(ownerId: string): Vehicle[] {
    return this.list().filter((v) => v.ownerIds.includes(ownerId));
  }

  isOnline(vehicleId: string): boolean {
    return !this.settings.isOffline(vehicleId);
  }

  /** The full true state as plain JSON, for /sim/state and /sim/vehicles. */
  snapshot(vehicleId: string): Record<string, unknown> | undefined {
    const v = this.get(vehicleId);
    if (!v) return undefined;
    const view = v.view();
    const s = v.state;
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    const pending = [...this.commands.values()].filter((c) => c.vehicleId === v.id && c.status === 'PENDINGRESPONSE').length;
    return {
      id: v.id,
      vin: v.vin,
      nickName: v.nickName,
      make: v.make,
      modelName: v.modelName,
      modelYear: v.modelYear,
      color: v.color,
      engineType: v.engineType,
      ownerIds: [...v.ownerIds],
      online: this.isOnline(v.id),
      reportedAt: iso(v.reported().at),
      locked: view.locked,
      alarm: view.alarmSet,
      doorsOpen: [...s.doorsOpen],
      doors: [...v.spec.doors],
      ignition: view.ignitionOn ? 'ON' : 'OFF',
      driving: view.driving,
      speedKph: round(view.speedKph, 1),
      engineRunning: view.engineRunning,
      remoteStartMinutesLeft: view.remoteStartMinutesLeft,
      fuelPercent: round(view.fuelPercent, 2),
      fuelRangeKm: round(view.fuelRangeKm, 1),
      batteryPercent: round(view.batteryPercent, 2),
      batteryRangeKm: round(view.batteryRangeKm, 1),
      plugged: view.plugged,
      charging: view.charging,
      chargeEnabled: s.chargeEnabled,
      chargingStatus: view.chargingStatus,
      chargeTargetPercent: view.chargeTargetPercent,
      chargerKw: s.chargerKw,
      chargerType: s.chargerType,
      chargeStartedAt: iso(view.chargeStartedAt),
      chargeEndAt: iso(view.chargeEndAt === null ? null : Math.round(view.chargeEndAt)),
      position: { lat: round(view.lat, 6), lon: round(view.lon, 6) },
      headingDeg: round(view.headingDeg, 1),
      direction: view.direction,
      route: v.spec.route.name,
      odometerKm: round(view.odometerKm, 3),
      tirePressureKpa: view.tirePressureKpa.map((p) => round(p, 1)),
      tirePressureWarning: view.tirePressureWarning,
      battery12VPercent: round(view.battery12VPercent, 2),
      battery12VVoltage: view.battery12VVoltage,
      deepSleep: view.deepSleep,
      firmwareUpgrade: view.firmwareUpgrade,
      lastSignalAt: iso(view.lastSignalAt),
      pendingCommands: pending,
    };
  }

  /** Test control "set state": see PATCH_KEYS in patch.ts. Returns the error text, or undefined once applied. */
  patch(vehicleId: string, patch: unknown): string | undefined {
    const v = this.get(vehicleId);
    if (!v) return `unknown vehicle ${vehicleId}`;
    const error = applyPatch(v, patch);
    v.flush(this.isOnline(v.id));
    return error;
  }

  /**
   * Accepts a command: PENDINGRESPONSE now, answered `commandDelayMs` later.
   * Refused up front only when the vehicle cannot do it at all (charge on ICE).
   */
  issueCommand(vehicleId: string, kind: CommandKind, context?: CommandContext): IssueResult {
    const vehicle = this.get(vehicleId);
    if (!vehicle) return { ok: false, reason: 'unknown-vehicle' };
    if (!isSupported(vehicle, kind)) return { ok: false, reason: 'not-supported' };
    this.prune();
    const now = this.clock.now();
    let id = this.newCommandId();
    while (this.commands.has(id)) id = this.newCommandId();
    const command: CommandRecord = {
      id,
      vehicleId,
      kind,
      issuedAt: now,
      dueAt: now + Math.max(0, this.settings.commandDelayMs),
      expiresAt: now + Math.max(0, this.settings.commandIdTtlMs),
      status: 'PENDINGRESPONSE',
      context: context ? { ...context } : undefined,
    };
    this.commands.set(id, command);
    if (this.settings.commandDelayMs <= 0) this.sync(vehicle);
    else this.nudgeAt(vehicle, command.dueAt);
    return { ok: true, command };
  }

  /**
   * A command of this vehicle, of the kind asked for and issued by the one
   * asking, settled if due; undefined when unknown, expired, of another kind
   * or another app's or owner's (the wire cannot tell these apart).
   */
  command(vehicleId: string, commandId: string, query: CommandQuery): CommandRecord | undefined {
    const command = this.commands.get(commandId.toLowerCase());
    if (!command || command.vehicleId !== vehicleId || command.kind !== query.kind || !sameIssuer(command.context, query.issuer)) return undefined;
    const vehicle = this.get(vehicleId);
    if (!vehicle || this.clock.now() >= command.expiresAt) return undefined;
    return command;
  }

  /** Called once per command when it completes or fails; returns an unsubscribe. */
  onCommandSettled(listener: CommandSettledListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * 32 hex characters: the seeded stream's next draw (so every other seeded
   * draw stays where it was) through HMAC-SHA256 under the fleet's key.
   */
  private newCommandId(): string {
    return createHmac('sha256', this.commandIdKey).update(this.random.hex(32)).digest('hex').slice(0, 32);
  }

  /** Brings one vehicle to now, settling due commands at their own times. */
  private sync(vehicle: Vehicle): void {
    const now = this.clock.now();
    const due = [...this.commands.values()]
      .filter((c) => c.vehicleId === vehicle.id && c.status === 'PENDINGRESPONSE' && c.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.issuedAt - b.issuedAt);
    for (const command of due) {
      const online = this.isOnline(vehicle.id);
      vehicle.advanceTo(command.dueAt, online);
      this.settle(vehicle, command, online);
    }
    vehicle.advanceTo(now, this.isOnline(vehicle.id));
  }

  private settle(vehicle: Vehicle, command: CommandRecord, online: boolean): void {
    const outcome = online ? execute(vehicle, command.kind, this.settings) : { ok: false as const, reason: 'vehicle offline: the modem did not answer' };
    vehicle.flush(online);
    command.status = outcome.ok ? 'COMPLETED' : 'FAILED';
    command.settledAt = command.dueAt;
    if (!outcome.ok) command.reason = outcome.reason;
    if (outcome.ok && command.kind === 'status') {
      const s = vehicle.state;
      command.result = { locked: s.locked, alarmSet: s.alarmSet, at: command.dueAt };
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(command, vehicle);
      } catch (err) {
        // A broken listener must not stop the vehicle's physics.
        console.error('ford-sim: command listener failed', err);
      }
    }
  }

  /** Drops expired, settled commands so a long run does not grow without bound. */
  private prune(): void {
    const now = this.clock.now();
    for (const [id, c] of this.commands) if (c.status !== 'PENDINGRESPONSE' && now >= c.expiresAt) this.commands.delete(id);
  }

  /** Settles a command near its due time on the wall clock, so audit records appear without a poll. */
  private nudgeAt(vehicle: Vehicle, dueAt: number): void {
    if (this.stopped) return;
    const delay = this.clock.realDelay(dueAt - this.clock.now()) + 5;
    if (!Number.isFinite(delay) || delay > 2 ** 31 - 1) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) this.sync(vehicle);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }
}

function sameIssuer(context: CommandContext | undefined, issuer: CommandQuery['issuer']): boolean {
  if (!context || !issuer) return !context && !issuer;
  return context.clientId === issuer.clientId && context.ownerId === issuer.ownerId;
}

function round(v: number, digits: number): number;
function round(v: number | null, digits: number): number | null;
function round(v: number | null, digits: number): number | null {
  if (v === null) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
