import { ApiError } from './errors';
import type { HttpClient } from './http-client';
import { alarmState, lockState, mapFordConnectV1Location, mapFordConnectV1Status, withoutLocation } from './status';
import { assertCommandId, assertVehicleId, type CommandStateResult, type LocationResult, type RefreshState, type StatusRefreshResult, type StatusResult, type VehicleApi, type VehicleCommand, type VehicleSummary } from './vehicle-api';
import { mapFordConnectV1Schedules, type ChargeSchedules } from './schedules';
import { obj, str, upper } from './wire-values';

/**
 * FordConnect v1 (and the simulator): the 2023–2024 paths. Reads of the list
 * and the vehicle information under `v3`, the position under `v2` (as the
 * working clients read it), refreshes and their results under `v1`.
 * Every vehicle and command id is checked before a path is built.
 */
export class FordConnectV1Api implements VehicleApi {
  readonly flavour = 'fordconnect-v1' as const;
  readonly canRefresh = true;
  readonly canCommand = true;

  constructor(private readonly http: HttpClient) {}

  async listVehicles(): Promise<VehicleSummary[]> {
    const { data } = await this.http.request<{ vehicles?: unknown }>('GET', '/v3/vehicles');
    if (!Array.isArray(data.vehicles)) throw new ApiError('bad-response', 'GET /v3/vehicles: the answer has no vehicles list');
    return data.vehicles.filter(isVehicle).map((v) => ({
      vehicleId: v.vehicleId,
      make: str(v.make),
      modelName: str(v.modelName),
      modelYear: v.modelYear === undefined ? undefined : String(v.modelYear),
      nickName: str(v.nickName),
      engineType: str(v.engineType),
    }));
  }

  async getStatus(vehicleId: string): Promise<StatusResult> {
    const id = assertVehicleId(vehicleId);
    const path = `/v3/vehicles/${encodeURIComponent(id)}`;
    const { data } = await this.http.request<unknown>('GET', path);
    return { status: withContext('GET', path, () => mapFordConnectV1Status(data, id)), raw: withoutLocation(data) };
  }

  async getLocation(vehicleId: string): Promise<LocationResult> {
    const id = assertVehicleId(vehicleId);
    const path = `/v2/vehicles/${encodeURIComponent(id)}/location`;
    const { data } = await this.http.request<unknown>('GET', path);
    return { location: withContext('GET', path, () => mapFordConnectV1Location(data)), raw: data };
  }

  async requestStatusRefresh(vehicleId: string): Promise<string> {
    const id = assertVehicleId(vehicleId);
    const path = `/v1/vehicles/${encodeURIComponent(id)}/status`;
    const { data } = await this.http.request<unknown>('POST', path);
    return commandIdOf(data, path);
  }

  async getChargeSchedules(vehicleId: string): Promise<ChargeSchedules> {
    const id = assertVehicleId(vehicleId);
    const base = `/v1/vehicles/${encodeURIComponent(id)}`;
    const [schedules, departures] = await Promise.all([this.http.request<unknown>('GET', `${base}/chargeSchedules`), this.http.request<unknown>('GET', `${base}/departureTimes`)]);
    return withContext('GET', `${base}/chargeSchedules`, () => mapFordConnectV1Schedules(id, schedules.data, departures.data, Date.now()));
  }

  async sendCommand(vehicleId: string, command: VehicleCommand): Promise<string> {
    const id = assertVehicleId(vehicleId);
    const path = `/v1/vehicles/${encodeURIComponent(id)}/${assertCommand(command)}`;
    const { data } = await this.http.request<unknown>('POST', path);
    return commandIdOf(data, path);
  }

  async commandState(vehicleId: string, command: VehicleCommand, commandId: string): Promise<CommandStateResult> {
    const id = assertVehicleId(vehicleId);
    const path = `/v1/vehicles/${encodeURIComponent(id)}/${assertCommand(command)}/${encodeURIComponent(assertCommandId(commandId))}`;
    const { data } = await this.http.request<unknown>('GET', path);
    return { state: withContext('GET', path, () => refreshState(obj(data)?.commandStatus)), raw: data };
  }

  async statusRefreshResult(vehicleId: string, commandId: string): Promise<StatusRefreshResult> {
    const id = assertVehicleId(vehicleId);
    const command = assertCommandId(commandId);
    const path = `/v1/vehicles/${encodeURIComponent(id)}/statusrefresh/${encodeURIComponent(command)}`;
    const { data } = await this.http.request<unknown>('GET', path);
    const body = obj(data) ?? {};
    const state = withContext('GET', path, () => refreshState(body.commandStatus));
    const result: StatusRefreshResult = { state, raw: data };
    const vs = obj(body.vehicleStatus);
    if (state === 'completed' && vs) {
      result.lock = lockState(obj(vs.lockStatus)?.value);
      const alarm = alarmState(obj(vs.alarm)?.value);
      if (alarm) result.alarm = alarm;
    }
    return result;
  }
}

const COMMANDS: readonly VehicleCommand[] = ['lock', 'unlock', 'startEngine', 'stopEngine', 'signal', 'startCharge', 'stopCharge'];

/** Only the known command names ever become a path segment. */
function assertCommand(command: unknown): VehicleCommand {
  if ((COMMANDS as readonly unknown[]).includes(command)) return command as VehicleCommand;
  throw new ApiError('bad-request', `unknown command; one of ${COMMANDS.join(', ')}`);
}

function commandIdOf(data: unknown, path: string): string {
  const commandId = obj(data)?.commandId;
  if (typeof commandId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(commandId)) throw new ApiError('bad-response', `POST ${path}: the answer has no usable commandId`);
  return commandId;
}

/** Ford's command states; a state Ford does not document (or none) is a bad answer, not an endless pending. */
function refreshState(v: unknown): RefreshState {
  const s = upper(v);
  if (s === 'COMPLETED' || s === 'SUCCESS') return 'completed';
  if (s === 'FAILED' || s === 'FAILURE' || s === 'EXPIRED') return 'failed';
  if (s === 'PENDINGRESPONSE' || s === 'PENDING' || s === 'QUEUED' || s === 'INPROGRESS') return 'pending';
  // Read as pending, a status nobody can read would be waited on until the timeout.
  throw new ApiError('bad-response', `commandStatus is ${typeof v === 'string' ? `"${v.slice(0, 40)}"` : v === undefined ? 'missing' : `a ${v === null ? 'null' : typeof v}`}, not one the API documents`);
}

/** A mapper's bad-response names the call it came from. */
function withContext<T>(method: string, path: string, map: () => T): T {
  try {
    return map();
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.kind, `${method} ${path}: ${err.message}`, err.httpStatus, err.retryAfterSeconds, err.scope);
    throw err;
  }
}

function isVehicle(v: unknown): v is Record<string, unknown> & { vehicleId: string } {
  return typeof v === 'object' && v !== null && typeof (v as { vehicleId?: unknown }).vehicleId === 'string';
}
