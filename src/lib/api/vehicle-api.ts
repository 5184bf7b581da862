import type { ChargeSchedules } from './schedules';
import { ApiError } from './errors';
import type { ApiFlavour } from './presets';
import type { AlarmState, LockState, VehicleLocation, VehicleStatus } from './status';

/** One interface over Ford's APIs; each adapter maps its wire format into these shapes. */
export interface VehicleSummary {
  vehicleId: string;
  make?: string;
  modelName?: string;
  modelYear?: string;
  nickName?: string;
  engineType?: string;
}

export interface StatusResult {
  status: VehicleStatus;
  /** The API's body for `msg.raw`, with anything locating the vehicle (and any VIN) removed. */
  raw: unknown;
}

export interface LocationResult {
  location: VehicleLocation;
  /** The API's body (location part only) for `msg.raw`. */
  raw: unknown;
}

export type RefreshState = 'pending' | 'completed' | 'failed';

export interface StatusRefreshResult {
  /** `pending` until the vehicle answered (Ford: `PENDINGRESPONSE`). */
  state: RefreshState;
  /** What the vehicle reported with a completed refresh. */
  lock?: LockState;
  alarm?: AlarmState;
  raw: unknown;
}

/** Remote commands as FordConnect v1 names them (the path after the vehicle id). */
export type VehicleCommand = 'lock' | 'unlock' | 'startEngine' | 'stopEngine' | 'signal' | 'startCharge' | 'stopCharge';

export interface CommandStateResult {
  /** `pending` until the vehicle answered (Ford: `PENDINGRESPONSE`). */
  state: RefreshState;
  raw: unknown;
}

export interface VehicleApi {
  /** Which wire format this adapter speaks (decides e.g. the minimum poll interval). */
  readonly flavour: ApiFlavour;
  /** Whether the API can ask the vehicle to report afresh (FordConnect Query cannot). */
  readonly canRefresh: boolean;
  listVehicles(): Promise<VehicleSummary[]>;
  /** The last status the vehicle reported. */
  getStatus(vehicleId: string): Promise<StatusResult>;
  /** The last position the vehicle reported. Callers check opt-in and `read:location` first. */
  getLocation(vehicleId: string): Promise<LocationResult>;
  /** Asks the vehicle to report afresh (wakes its modem, costs 12 V battery); returns the command id. */
  requestStatusRefresh(vehicleId: string): Promise<string>;
  /** The outcome so far of a refresh asked for with {@link requestStatusRefresh}. */
  statusRefreshResult(vehicleId: string, commandId: string): Promise<StatusRefreshResult>;
  /** Whether the API offers remote commands at all (FordConnect Query does not). */
  readonly canCommand: boolean;
  /** The EV's charge schedules and next departure time. */
  getChargeSchedules(vehicleId: string): Promise<ChargeSchedules>;
  /** Sends a command; the API accepts it at once and returns its command id (the 202 is not the outcome). */
  sendCommand(vehicleId: string, command: VehicleCommand): Promise<string>;
  /** The outcome so far of a command sent with {@link sendCommand}. */
  commandState(vehicleId: string, command: VehicleCommand, commandId: string): Promise<CommandStateResult>;
}

/** The kit's vehicle id: FordConnect's 32 hexadecimal characters (and the same length for FordConnect Query's stand-in). */
export const VEHICLE_ID_PATTERN = /^[0-9a-fA-F]{32}$/;
const VIN_LIKE = /^[A-HJ-NPR-Z0-9]{17}$/i;
const COMMAND_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

export function isVehicleId(value: unknown): value is string {
  return typeof value === 'string' && VEHICLE_ID_PATTERN.test(value);
}

/**
 * Refuses anything but a well-formed vehicle id before a request is built:
 * path segments, query strings and huge strings never reach a URL. The
 * message never repeats the value (it may be a VIN, or hostile).
 */
export function assertVehicleId(value: unknown): string {
  if (isVehicleId(value)) return value;
  let got: string;
  if (typeof value !== 'string') got = value === undefined || value === null ? 'nothing' : `a ${typeof value}`;
  else if (value === '') got = 'an empty string';
  else if (VIN_LIKE.test(value)) got = 'what looks like a VIN';
  else got = `${value.length} characters${/[^0-9a-fA-F]/.test(value) ? ', not all hexadecimal' : ''}`;
  throw new ApiError('bad-request', `vehicleId must be the vehicle's 32-character hexadecimal id (not the VIN); got ${got}`);
}

export function assertCommandId(value: unknown): string {
  if (typeof value === 'string' && COMMAND_ID_PATTERN.test(value)) return value;
  throw new ApiError('bad-request', 'commandId must be 1 to 64 letters, digits or dashes');
}
