import type { SeededRandom } from '../random';
import type { Fleet } from './fleet';
import { ROUTES } from './route';
import type { ChargeSchedule, DepartureTime, VehicleSpec, VehicleState } from './vehicle';
import { makeVin } from './vin';

/**
 * The demo fleet: the owner's three cars (one shared with a partner), and a
 * small business's two vans. Ids and VINs come from the seeded generator in a
 * fixed order, so one seed always gives the same fleet.
 */

type Model = Omit<VehicleSpec, 'id' | 'vin' | 'nickName' | 'ownerIds' | 'route'>;

const HOME_SCHEDULE: ChargeSchedule[] = [
  { days: 'WEEKDAY', chargeWindows: [{ startTime: '23:00', endTime: '07:00' }] },
  { days: 'WEEKEND', chargeWindows: [{ startTime: '00:00', endTime: '00:00' }] },
];

const DEPOT_SCHEDULE: ChargeSchedule[] = [
  { days: 'WEEKDAY', chargeWindows: [{ startTime: '19:00', endTime: '05:30' }] },
  { days: 'WEEKEND', chargeWindows: [{ startTime: '12:00', endTime: '18:00' }] },
];

const F150: Model = {
  make: 'Ford', modelName: 'F-150', modelYear: '2022', color: 'Antimatter Blue Metallic', engineType: 'ICE',
  doors: ['DRIVER', 'PASSENGER', 'REAR_LEFT', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE'],
  fuelTankLitres: 98, litresPer100Km: 12.4, idleLitresPerHour: 2.2, nominalTirePressureKpa: 241,
};

const MACH_E: Model = {
  make: 'Ford', modelName: 'Mustang Mach-E', modelYear: '2023', color: 'Grabber Blue Metallic', engineType: 'BEV',
  doors: ['DRIVER', 'PASSENGER', 'REAR_LEFT', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE'],
  batteryKwh: 91, kwhPer100Km: 19.5, climateKw: 3, maxAcKw: 10.5, maxDcKw: 150, nominalTirePressureKpa: 262,
  chargeSchedules: HOME_SCHEDULE,
  departureTimes: [
    { dayOfWeek: 'MONDAY', time: '07:45', preConditioningSetting: 'WARM' },
    { dayOfWeek: 'WEDNESDAY', time: '07:45', preConditioningSetting: 'WARM' },
    { dayOfWeek: 'FRIDAY', time: '17:30', preConditioningSetting: 'MEDIUM' },
  ],
};

const ESCAPE_PHEV: Model = {
  make: 'Ford', modelName: 'Escape Plug-In Hybrid', modelYear: '2022', color: 'Rapid Red Metallic', engineType: 'PHEV',
  doors: ['DRIVER', 'PASSENGER', 'REAR_LEFT', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE'],
  fuelTankLitres: 41.6, litresPer100Km: 5.9, idleLitresPerHour: 0.9,
  batteryKwh: 11.1, kwhPer100Km: 18.5, climateKw: 2.5, maxAcKw: 3.3, nominalTirePressureKpa: 241,
  chargeSchedules: HOME_SCHEDULE,
  departureTimes: [{ dayOfWeek: 'TUESDAY', time: '08:00', preConditioningSetting: 'COOL' }],
};

const E_TRANSIT: Model = {
  make: 'Ford', modelName: 'E-Transit', modelYear: '2023', color: 'Oxford White', engineType: 'EV',
  doors: ['DRIVER', 'PASSENGER', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE', 'INNER_TAILGATE'],
  batteryKwh: 68, kwhPer100Km: 31, climateKw: 4, maxAcKw: 11.3, maxDcKw: 115, nominalTirePressureKpa: 379,
  chargeSchedules: DEPOT_SCHEDULE,
  departureTimes: [{ dayOfWeek: 'MONDAY', time: '06:30', preConditioningSetting: 'MEDIUM' }],
};

const TRANSIT: Model = {
  make: 'Ford', modelName: 'Transit', modelYear: '2021', color: 'Oxford White', engineType: 'ICE',
  doors: ['DRIVER', 'PASSENGER', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE', 'INNER_TAILGATE'],
  fuelTankLitres: 95, litresPer100Km: 13.5, idleLitresPerHour: 2.5, nominalTirePressureKpa: 379,
};

/** A parked, closed, switched-off vehicle; each seed entry changes what differs. */
function parked(overrides: Partial<Omit<VehicleState, 'time'>>): Omit<VehicleState, 'time'> {
  return {
    locked: true,
    alarmSet: true,
    doorsOpen: [],
    ignitionOn: false,
    driving: false,
    speedKph: null,
    remoteStartUntil: null,
    fuelPercent: null,
    batteryPercent: null,
    plugged: false,
    chargeEnabled: false,
    chargePaused: false,
    chargeTargetPercent: 90,
    chargerKw: 11,
    chargerType: 'AC',
    chargingActive: false,
    chargeStartedAt: null,
    chargeEndedAt: null,
    routeDistanceM: 0,
    parkedAt: null,
    headingDeg: 0,
    odometerKm: 0,
    tirePressureKpa: [240, 240, 240, 240],
    battery12VPercent: 88,
    deepSleep: false,
    firmwareUpgrade: false,
    lastSignalAt: null,
    ...overrides,
  };
}

function departure(times: DepartureTime[] | undefined): DepartureTime[] | undefined {
  return times?.map((t) => ({ ...t }));
}

export function seedFleet(fleet: Fleet, owners: { owner: string; partner: string; fleet: string }): void {
  const random: SeededRandom = fleet.random;
  const add = (model: Model, nickName: string, ownerIds: string[], vin: [string, number, string], route: VehicleSpec['route'], state: Omit<VehicleState, 'time'>): void => {
    const id = fleet.newVehicleId();
    fleet.add(
      {
        ...model,
        id,
        vin: makeVin(random, vin[0], vin[1], vin[2]),
        nickName,
        ownerIds,
        route,
        chargeSchedules: model.chargeSchedules?.map((s) => ({ days: s.days, chargeWindows: s.chargeWindows.map((w) => ({ ...w })) })),
        departureTimes: departure(model.departureTimes),
        doors: [...model.doors],
      },
      // Parked facing along its road.
      { ...state, headingDeg: route.at(state.routeDistanceM).headingDeg },
    );
  };

  add(F150, 'Work Truck', [owners.owner], ['1FTFW1E5', 2022, 'F'], ROUTES.dearborn,
    parked({ fuelPercent: 62, odometerKm: 18452.4, routeDistanceM: 0, tirePressureKpa: [241, 240, 238, 239], battery12VPercent: 91 }));
  add(MACH_E, 'Sky', [owners.owner, owners.partner], ['3FMTK3SU', 2023, 'M'], ROUTES.annArbor,
    parked({ batteryPercent: 54, plugged: true, chargeEnabled: false, chargeTargetPercent: 90, chargerKw: 10.5, odometerKm: 9210.8, tirePressureKpa: [262, 261, 259, 260], battery12VPercent: 86 }));
  add(ESCAPE_PHEV, 'Family Escape', [owners.owner], ['1FMCU0EZ', 2022, 'L'], ROUTES.dearbornHeights,
    parked({ locked: false, alarmSet: false, fuelPercent: 71, batteryPercent: 35, chargeTargetPercent: 100, chargerKw: 3.3, odometerKm: 31876.2, tirePressureKpa: [240, 241, 196, 239], battery12VPercent: 82 }));
  add(E_TRANSIT, 'Van 01 (E-Transit)', [owners.fleet], ['1FTBW9CK', 2023, 'K'], ROUTES.detroitDepot,
    parked({ batteryPercent: 80, plugged: true, chargeEnabled: false, chargeTargetPercent: 100, chargerKw: 11.3, odometerKm: 24711.9, tirePressureKpa: [379, 378, 380, 377], battery12VPercent: 90 }));
  add(TRANSIT, 'Van 02 (Transit)', [owners.fleet], ['1FTBR1C8', 2021, 'K'], ROUTES.detroitDepot,
    parked({ fuelPercent: 45, odometerKm: 80233.5, routeDistanceM: 2500, tirePressureKpa: [378, 379, 376, 380], battery12VPercent: 84 }));
}
