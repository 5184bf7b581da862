import { createHash } from 'node:crypto';
import { ApiError } from './errors';
import { mapFconQueryLocation, mapFconQueryStatus, telemetryForLocation, telemetryForStatus } from './fcon-query-status';
import type { HttpClient } from './http-client';
import { assertVehicleId, type CommandStateResult, type LocationResult, type StatusRefreshResult, type StatusResult, type VehicleApi, type VehicleSummary } from './vehicle-api';
import { mapFconQuerySchedules, type ChargeSchedules } from './schedules';
import { obj, type Obj } from './wire-values';

/** After a failed garage read, status reads go without it this long before one tries again: no extra call per poll. */
export const GARAGE_RETRY_MS = 15 * 60_000;

/**
 * FordConnect Query (Ford's current, read-only API): one authorization is one
 * vehicle, and no path carries a vehicle id — the token is the vehicle.
 * Status and location both come from `/v1/telemetry`; a status and a
 * location read started together share one request. The garage (engine type,
 * nickname) does not change within an authorization: it is read once per
 * adapter (a new authorization makes a new adapter) and shared by every caller.
 */
export class FconQueryApi implements VehicleApi {
  readonly flavour = 'fcon-query' as const;
  readonly canRefresh = false;
  readonly canCommand = false;
  private telemetryInFlight?: Promise<unknown>;
  /** The garage read, in flight or done; forgotten when it fails. */
  private garageRead?: Promise<Obj>;
  private garageRetryAt = 0;
  private readonly now: () => number;

  constructor(
    private readonly http: HttpClient,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async listVehicles(): Promise<VehicleSummary[]> {
    const data = await this.garage();
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return [
      {
        // The VIN itself never leaves the kit: flows and the editor get a stable stand-in.
        vehicleId: vehicleIdFromVin(data.vin as string),
        make: text(data.make),
        modelName: text(data.modelName),
        modelYear: data.modelYear === undefined ? undefined : String(data.modelYear),
        nickName: text(data.nickName),
        engineType: text(data.engineType),
      },
    ];
  }

  async getStatus(vehicleId: string): Promise<StatusResult> {
    const id = assertVehicleId(vehicleId);
    // Side by side: the garage (once per adapter) costs a poll no time.
    const [data, garage] = await Promise.all([this.telemetry(id), this.garageFor(id)]);
    return { status: context(() => mapFconQueryStatus(data, id, garage)), raw: telemetryForStatus(data) };
  }

  async getLocation(vehicleId: string): Promise<LocationResult> {
    const id = assertVehicleId(vehicleId);
    const data = await this.telemetry(id);
    return { location: context(() => mapFconQueryLocation(data)), raw: telemetryForLocation(data) };
  }

  async requestStatusRefresh(vehicleId: string): Promise<string> {
    assertVehicleId(vehicleId);
    throw noRefresh();
  }

  async statusRefreshResult(vehicleId: string): Promise<StatusRefreshResult> {
    assertVehicleId(vehicleId);
    throw noRefresh();
  }

  async getChargeSchedules(vehicleId: string): Promise<ChargeSchedules> {
    const id = assertVehicleId(vehicleId);
    // The token is the vehicle: make sure it is the one asked for before reading its schedules.
    await this.listVehicles().then((list) => {
      if (list[0]?.vehicleId !== id.toLowerCase()) throw new ApiError('not-found', 'this authorization is for another vehicle (FordConnect Query grants one vehicle per authorization)');
    });
    const [schedules, departures] = await Promise.all([this.http.request<unknown>('GET', '/v1/electric/charge-schedules'), this.http.request<unknown>('GET', '/v1/electric/departure-times')]);
    return mapFconQuerySchedules(id, schedules.data, departures.data, Date.now());
  }

  async sendCommand(vehicleId: string): Promise<string> {
    assertVehicleId(vehicleId);
    throw noCommands();
  }

  async commandState(vehicleId: string): Promise<CommandStateResult> {
    assertVehicleId(vehicleId);
    throw noCommands();
  }

  /** The garage, read once and shared (also while in flight); a failed read is forgotten so a later call tries again. */
  private garage(): Promise<Obj> {
    if (!this.garageRead) {
      const read = this.http.request<unknown>('GET', '/v1/garage').then((r) => {
        const data = obj(r.data);
        if (!data || typeof data.vin !== 'string') throw new ApiError('bad-response', 'GET /v1/garage: the answer has no vehicle');
        return data;
      });
      this.garageRead = read;
      read.catch(() => {
        if (this.garageRead === read) this.garageRead = undefined;
        this.garageRetryAt = this.now() + GARAGE_RETRY_MS;
      });
    }
    return this.garageRead;
  }

  /**
   * The garage for a status read, or undefined: its failure must not fail
   * the read (the engine type and name are then absent), and after one a
   * status read does not ask again for {@link GARAGE_RETRY_MS}.
   */
  private async garageFor(vehicleId: string): Promise<Obj | undefined> {
    if (!this.garageRead && this.now() < this.garageRetryAt) return undefined;
    try {
      const g = await this.garage();
      // Another vehicle's garage says nothing about this one (the telemetry check refuses the read anyway).
      return vehicleIdFromVin(g.vin as string) === vehicleId.toLowerCase() ? g : undefined;
    } catch {
      return undefined;
    }
  }

  /** One telemetry request for concurrent callers, checked to be of the vehicle asked for. */
  private async telemetry(vehicleId: string): Promise<unknown> {
    if (!this.telemetryInFlight) {
      this.telemetryInFlight = this.http.request<unknown>('GET', '/v1/telemetry').then(
        (r) => {
          this.telemetryInFlight = undefined;
          return r.data;
        },
        (err: unknown) => {
          this.telemetryInFlight = undefined;
          throw err;
        },
      );
    }
    const data = await this.telemetryInFlight;
    const vin = obj(data)?.vin;
    if (typeof vin === 'string' && vehicleIdFromVin(vin) !== vehicleId.toLowerCase()) {
      throw new ApiError('not-found', 'GET /v1/telemetry: this authorization is for another vehicle (FordConnect Query grants one vehicle per authorization)');
    }
    return data;
  }
}

export const NO_COMMANDS_TEXT = "Ford's official API (FordConnect Query) offers no remote commands: it is read-only";

function noCommands(): ApiError {
  return new ApiError('not-acceptable', NO_COMMANDS_TEXT);
}

function noRefresh(): ApiError {
  return new ApiError('not-acceptable', "FordConnect Query offers no status refresh: Ford's official API is read-only, and the vehicle reports on its own");
}

function context<T>(map: () => T): T {
  try {
    return map();
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.kind, `GET /v1/telemetry: ${err.message}`, err.httpStatus);
    throw err;
  }
}

/** FordConnect Query paths carry no vehicle id; this one only tells vehicles apart in flows. */
export function vehicleIdFromVin(vin: string): string {
  return createHash('sha256').update(vin).digest('hex').slice(0, 32);
}
