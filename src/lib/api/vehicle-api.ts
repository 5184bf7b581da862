/** One interface over Ford's APIs; each adapter maps its wire format into these shapes. */
export interface VehicleSummary {
  vehicleId: string;
  make?: string;
  modelName?: string;
  modelYear?: string;
  nickName?: string;
  engineType?: string;
}

export interface VehicleApi {
  listVehicles(): Promise<VehicleSummary[]>;
}
