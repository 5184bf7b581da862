import { DEEP_SLEEP_BELOW_PERCENT, hasEnergy, isRemoteRunning, type Vehicle } from './vehicle';

/**
 * Remote commands as the vehicle sees them: accepted at once, carried out
 * after the modem's delay, COMPLETED with a state change or FAILED with a
 * reason. The wire surfaces only name and poll them.
 */

export const COMMAND_KINDS = ['lock', 'unlock', 'startEngine', 'stopEngine', 'wake', 'startCharge', 'stopCharge', 'status', 'location', 'signal'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export type CommandStatus = 'PENDINGRESPONSE' | 'COMPLETED' | 'FAILED';

/** Who asked, so the owner's audit log can record the outcome too. */
export interface CommandContext {
  ownerId: string;
  clientId: string;
  ip?: string;
}

export interface CommandRecord {
  /** 32 lowercase hex characters. */
  id: string;
  vehicleId: string;
  kind: CommandKind;
  issuedAt: number;
  /** When the vehicle answers. */
  dueAt: number;
  /** After this the id is unknown (401 code 3000 on the wire). */
  expiresAt: number;
  status: CommandStatus;
  settledAt?: number;
  /** Why it failed, in words for the audit log. */
  reason?: string;
  context?: CommandContext;
  /** A status refresh's answer: lock and alarm as the vehicle reported them. */
  result?: { locked: boolean; alarmSet: boolean; at: number };
}

export type CommandOutcome = { ok: true } | { ok: false; reason: string };

/** Charge commands need a plug: ICE and HEV refuse them before anything is sent (406). */
export function isSupported(vehicle: Vehicle, kind: CommandKind): boolean {
  if (kind === 'startCharge' || kind === 'stopCharge') return vehicle.canCharge();
  return true;
}

/** What each command costs the 12 V battery: a modem wake-up is the expensive part. */
const AUX_COST_PERCENT: Record<CommandKind, number> = {
  lock: 0.1,
  unlock: 0.1,
  startEngine: 0.1,
  stopEngine: 0.1,
  wake: 0.2,
  startCharge: 0.1,
  stopCharge: 0.1,
  status: 0.2,
  location: 0.2,
  signal: 0.1,
};

/**
 * Carries a command out at the vehicle's current state time (its due time).
 * The vehicle is online here; the fleet fails offline ones before calling.
 */
export function execute(vehicle: Vehicle, kind: CommandKind, settings: { remoteStartMinutes: number }): CommandOutcome {
  const outcome = decide(vehicle, kind, settings);
  // The modem woke to answer, success or not.
  vehicle.mutate((st) => {
    st.battery12VPercent = Math.max(0, st.battery12VPercent - AUX_COST_PERCENT[kind]);
  });
  if (outcome.ok && (kind === 'status' || kind === 'location' || kind === 'wake')) vehicle.forceReport(true);
  return outcome;
}

function decide(vehicle: Vehicle, kind: CommandKind, settings: { remoteStartMinutes: number }): CommandOutcome {
  const s = vehicle.state;
  if (s.firmwareUpgrade) return fail('firmware upgrade in progress');
  if (kind === 'wake') {
    if (s.battery12VPercent < DEEP_SLEEP_BELOW_PERCENT) return fail('12 V battery too low to wake the modem');
    vehicle.mutate((st) => {
      st.deepSleep = false;
    });
    return { ok: true };
  }
  if (s.deepSleep) return fail('vehicle in deep sleep: send wake first');

  switch (kind) {
    case 'lock': {
      const ajar = s.doorsOpen;
      if (ajar.length > 0) return fail(`door ajar: ${ajar.join(', ')}`);
      vehicle.mutate((st) => {
        st.locked = true;
        st.alarmSet = true;
      });
      return { ok: true };
    }
    case 'unlock':
      vehicle.mutate((st) => {
        st.locked = false;
        st.alarmSet = false;
      });
      return { ok: true };
    case 'startEngine': {
      if (s.driving) return fail('vehicle is being driven');
      if (s.ignitionOn) return fail('ignition is on');
      if (s.doorsOpen.includes('HOOD_DOOR')) return fail('hood open');
      if (s.doorsOpen.length > 0) return fail(`door ajar: ${s.doorsOpen.join(', ')}`);
      if (!hasEnergy(vehicle.spec, s)) return fail('no fuel or charge left');
      // A second start while running restarts the window, as Ford's does.
      vehicle.mutate((st) => {
        st.remoteStartUntil = st.time + settings.remoteStartMinutes * 60_000;
      });
      return { ok: true };
    }
    case 'stopEngine':
      if (s.driving) return fail('vehicle is being driven');
      if (isRemoteRunning(s)) {
        vehicle.mutate((st) => {
          st.remoteStartUntil = null;
        });
      }
      return { ok: true };
    case 'startCharge':
      if (!s.plugged) return fail('not plugged in');
      vehicle.mutate((st) => {
        st.chargeEnabled = true;
        st.chargePaused = false;
      });
      return { ok: true };
    case 'stopCharge':
      vehicle.mutate((st) => {
        st.chargeEnabled = false;
        st.chargePaused = st.plugged;
      });
      return { ok: true };
    case 'signal':
      vehicle.mutate((st) => {
        st.lastSignalAt = st.time;
      });
      return { ok: true };
    case 'status':
    case 'location':
      return { ok: true };
  }
  return fail(`unknown command ${String(kind)}`);
}

function fail(reason: string): CommandOutcome {
  return { ok: false, reason };
}
