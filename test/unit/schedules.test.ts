import { expect } from 'chai';
import { ApiError } from '../../src/lib/api/errors';
import { clockTime, departureOf, mapFconQuerySchedules, mapFordConnectV1Schedules, nextOccurrence, weekdays, type ChargeSchedules } from '../../src/lib/api/schedules';

const ID = '97da2849d73eb438a907d090402c802d';

/** Wednesday 25 November 2026, 10:00 UTC. */
const WED_10 = Date.parse('2026-11-25T10:00:00.000Z');

/** The simulator's FordConnect v1 `chargeSchedules` body. */
function v1Schedules(chargeSchedules: unknown[] = [{ days: 'WEEKDAY', chargeWindows: [{ startTime: '22:00', endTime: '06:00' }], desiredChargeLevel: 80 }]): Record<string, unknown> {
  return { status: 'SUCCESS', chargeSchedules };
}

/** The simulator's FordConnect v1 `departureTimes` body: the next departure as one object. */
function v1Departure(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'SUCCESS', departureTimes: { dayOfWeek: 'TUESDAY', enabled: true, hour: 8, minutes: 0, preConditioningSetting: 'COOL', ...overrides } };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('lib/api/schedules: weekdays', () => {
  it('spells out WEEKDAY, WEEKEND and their plurals and DAILY', () => {
    expect(weekdays('WEEKDAY')).to.deep.equal(['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
    expect(weekdays('WEEKDAYS')).to.deep.equal(['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
    expect(weekdays('WEEKEND')).to.deep.equal(['saturday', 'sunday']);
    expect(weekdays('WEEKENDS')).to.deep.equal(['saturday', 'sunday']);
    expect(weekdays('DAILY')).to.have.members(['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']).and.have.length(7);
    expect(weekdays('EVERYDAY')).to.have.length(7);
  });

  it('reads single days and arrays of days', () => {
    expect(weekdays('MONDAY')).to.deep.equal(['monday']);
    expect(weekdays('SUNDAY')).to.deep.equal(['sunday']);
    expect(weekdays(['MONDAY', 'WEDNESDAY', 'FRIDAY'])).to.deep.equal(['monday', 'wednesday', 'friday']);
    expect(weekdays(['SATURDAY', 'WEEKDAY'])).to.deep.equal(['saturday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
  });

  it('ignores case and surrounding blanks', () => {
    expect(weekdays('monday')).to.deep.equal(['monday']);
    expect(weekdays('Tuesday')).to.deep.equal(['tuesday']);
    expect(weekdays(' thursday ')).to.deep.equal(['thursday']);
    expect(weekdays('weekend')).to.deep.equal(['saturday', 'sunday']);
    expect(weekdays(['Friday', 'SATURDAY'])).to.deep.equal(['friday', 'saturday']);
  });

  it('drops unknown words and what is not a word', () => {
    expect(weekdays('FUNDAY')).to.deep.equal([]);
    expect(weekdays('MON')).to.deep.equal([]);
    expect(weekdays(['MONDAY', 'HOLIDAY', 3, null, {}, '', 'FRIDAY'])).to.deep.equal(['monday', 'friday']);
    for (const v of [undefined, null, '', '  ', 1, true, {}, [], 'CONSTRUCTOR', '__proto__', 'toString']) expect(weekdays(v), String(v)).to.deep.equal([]);
  });

  it('lists each day once', () => {
    expect(weekdays(['MONDAY', 'monday', 'Monday'])).to.deep.equal(['monday']);
    expect(weekdays(['WEEKDAY', 'TUESDAY', 'WEEKDAYS'])).to.deep.equal(['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
    expect(weekdays(['DAILY', 'WEEKEND', 'SUNDAY'])).to.have.length(7);
  });
});

describe('lib/api/schedules: clockTime', () => {
  it('reads H:mm and HH:mm as HH:MM', () => {
    expect(clockTime('8:30')).to.equal('08:30');
    expect(clockTime('08:30')).to.equal('08:30');
    expect(clockTime('0:00')).to.equal('00:00');
    expect(clockTime('23:59')).to.equal('23:59');
    expect(clockTime(' 22:00 ')).to.equal('22:00');
  });

  it('drops the seconds of HH:mm:ss', () => {
    expect(clockTime('06:00:00')).to.equal('06:00');
    expect(clockTime('7:05:59')).to.equal('07:05');
  });

  it('reads an hour and minutes given as numbers', () => {
    expect(clockTime(8, 0)).to.equal('08:00');
    expect(clockTime(8, 5)).to.equal('08:05');
    expect(clockTime(23, 59)).to.equal('23:59');
    expect(clockTime(0, 0)).to.equal('00:00');
    // An hour alone is on the hour.
    expect(clockTime(7)).to.equal('07:00');
  });

  it('refuses what is out of range or not a time', () => {
    for (const [v, m] of [
      ['24:00', undefined],
      ['12:60', undefined],
      ['-1:00', undefined],
      ['8', undefined],
      ['830', undefined],
      ['8:3', undefined],
      ['08:30 PM', undefined],
      ['123:00', undefined],
      ['', undefined],
      [null, undefined],
      [undefined, undefined],
      [{}, undefined],
      [24, 0],
      [-1, 0],
      [8, 60],
      [8, -1],
      [8.5, 0],
      [8, 1.5],
      [NaN, 0],
      [Infinity, 0],
    ] as [unknown, unknown][]) {
      expect(clockTime(v, m), `${String(v)} ${String(m)}`).to.equal(undefined);
    }
  });

  // Known bug (schedules.ts, not fixed here): minutes of the wrong type read as 0, so a
  // departure `{ hour: 8, minutes: '30' }` comes out as 08:00 — a wrong time instead of none.
  it('never turns minutes it cannot read into :00', () => {
    expect(clockTime(8, 'soon')).to.equal(undefined);
    expect(clockTime(8, {})).to.equal(undefined);
    expect(['08:30', undefined]).to.include(clockTime(8, '30'));
    expect(['08:30', undefined]).to.include(departureOf({ dayOfWeek: 'MONDAY', hour: 8, minutes: '30' }, WED_10)?.time);
  });
});

describe('lib/api/schedules: nextOccurrence', () => {
  it('takes today when the time is still ahead', () => {
    expect(nextOccurrence('wednesday', '22:00', WED_10)).to.equal('2026-11-25T22:00:00.000Z');
    expect(nextOccurrence('wednesday', '10:01', WED_10)).to.equal('2026-11-25T10:01:00.000Z');
  });

  it('takes next week when today\'s time has passed, or is now', () => {
    expect(nextOccurrence('wednesday', '08:00', WED_10)).to.equal('2026-12-02T08:00:00.000Z');
    expect(nextOccurrence('wednesday', '10:00', WED_10)).to.equal('2026-12-02T10:00:00.000Z');
    expect(nextOccurrence('wednesday', '10:00', WED_10 + 30_000)).to.equal('2026-12-02T10:00:00.000Z');
  });

  it('finds the other days of the week', () => {
    expect(nextOccurrence('thursday', '07:00', WED_10)).to.equal('2026-11-26T07:00:00.000Z');
    expect(nextOccurrence('saturday', '09:15', WED_10)).to.equal('2026-11-28T09:15:00.000Z');
    expect(nextOccurrence('sunday', '00:00', WED_10)).to.equal('2026-11-29T00:00:00.000Z');
    expect(nextOccurrence('monday', '06:30', WED_10)).to.equal('2026-11-30T06:30:00.000Z');
    expect(nextOccurrence('tuesday', '23:59', WED_10)).to.equal('2026-12-01T23:59:00.000Z');
  });

  it('crosses the ends of months and years, and leap days', () => {
    // Saturday 31 January 2026.
    expect(nextOccurrence('monday', '07:00', Date.parse('2026-01-31T12:00:00Z'))).to.equal('2026-02-02T07:00:00.000Z');
    // Thursday 31 December 2026, late.
    expect(nextOccurrence('friday', '08:00', Date.parse('2026-12-31T23:00:00Z'))).to.equal('2027-01-01T08:00:00.000Z');
    expect(nextOccurrence('thursday', '22:00', Date.parse('2026-12-31T23:00:00Z'))).to.equal('2027-01-07T22:00:00.000Z');
    // Monday 28 February 2028, a leap year.
    expect(nextOccurrence('tuesday', '06:00', Date.parse('2028-02-28T12:00:00Z'))).to.equal('2028-02-29T06:00:00.000Z');
    expect(nextOccurrence('wednesday', '06:00', Date.parse('2028-02-28T12:00:00Z'))).to.equal('2028-03-01T06:00:00.000Z');
  });

  it('is always ahead of now and at most a week away', () => {
    const days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
    for (const day of days) {
      for (const time of ['00:00', '09:59', '10:00', '10:01', '23:59']) {
        const at = Date.parse(nextOccurrence(day, time, WED_10));
        expect(at, `${day} ${time}`).to.be.greaterThan(WED_10);
        expect(at - WED_10, `${day} ${time}`).to.be.at.most(7 * 86_400_000);
        expect(new Date(at).getUTCDay(), `${day} ${time}`).to.equal(days.indexOf(day));
      }
    }
  });
});

describe('lib/api/schedules: departureOf', () => {
  it('reads a single departure object', () => {
    expect(departureOf({ dayOfWeek: 'TUESDAY', enabled: true, hour: 8, minutes: 0, preConditioningSetting: 'COOL' }, WED_10)).to.deep.equal({
      day: 'tuesday',
      time: '08:00',
      at: '2026-12-01T08:00:00.000Z',
      preconditioning: 'cool',
    });
    // Other spellings: day, time as text, minute.
    expect(departureOf({ day: 'thursday', time: '7:45' }, WED_10)).to.deep.equal({ day: 'thursday', time: '07:45', at: '2026-11-26T07:45:00.000Z' });
    expect(departureOf({ dayOfWeek: 'FRIDAY', departureTime: '06:15:00' }, WED_10)).to.include({ day: 'friday', time: '06:15' });
    expect(departureOf({ dayOfWeek: 'FRIDAY', hour: 6, minute: 20 }, WED_10)).to.include({ day: 'friday', time: '06:20' });
    expect(departureOf({ dayOfWeek: 'SUNDAY', hour: 0, minutes: 0 }, WED_10)).to.include({ day: 'sunday', time: '00:00' });
  });

  it('takes the soonest of a list', () => {
    const list = [
      { dayOfWeek: 'WEDNESDAY', enabled: true, hour: 8, minutes: 0 }, // passed today: next week
      { dayOfWeek: 'FRIDAY', enabled: true, hour: 7, minutes: 30 },
      { dayOfWeek: 'THURSDAY', enabled: true, hour: 9, minutes: 0, preConditioningSetting: 'WARM' },
      { dayOfWeek: 'MONDAY', enabled: true, hour: 6, minutes: 0 },
    ];
    expect(departureOf(list, WED_10)).to.deep.equal({ day: 'thursday', time: '09:00', at: '2026-11-26T09:00:00.000Z', preconditioning: 'warm' });
    expect(departureOf([...list, { dayOfWeek: 'WEDNESDAY', hour: 18, minutes: 0 }], WED_10)).to.include({ day: 'wednesday', time: '18:00', at: '2026-11-25T18:00:00.000Z' });
    // The order of the list does not matter.
    expect(departureOf([...list].reverse(), WED_10)).to.include({ day: 'thursday', time: '09:00' });
  });

  it('skips disabled departures', () => {
    expect(departureOf({ dayOfWeek: 'MONDAY', enabled: false, hour: 0, minutes: 0, preConditioningSetting: 'OFF' }, WED_10)).to.equal(undefined);
    const list = [
      { dayOfWeek: 'THURSDAY', enabled: false, hour: 7, minutes: 0 },
      { dayOfWeek: 'SATURDAY', enabled: true, hour: 10, minutes: 0 },
    ];
    expect(departureOf(list, WED_10)).to.include({ day: 'saturday', time: '10:00' });
  });

  it('skips entries without a valid day or time, and what is not an entry', () => {
    const bad = [
      null,
      undefined,
      'MONDAY 08:00',
      42,
      [],
      {},
      { enabled: true, hour: 8, minutes: 0 },
      { dayOfWeek: 'FUNDAY', hour: 8, minutes: 0 },
      { dayOfWeek: 'THURSDAY' },
      { dayOfWeek: 'THURSDAY', hour: 25, minutes: 0 },
      { dayOfWeek: 'THURSDAY', hour: 8, minutes: 75 },
      { dayOfWeek: 'THURSDAY', time: '8 o\'clock' },
    ];
    for (const entry of bad) expect(departureOf(entry, WED_10), JSON.stringify(entry)).to.equal(undefined);
    expect(departureOf(bad, WED_10)).to.equal(undefined);
    expect(departureOf([...bad, { dayOfWeek: 'SUNDAY', hour: 12, minutes: 0 }], WED_10)).to.include({ day: 'sunday', time: '12:00' });
    expect(departureOf([], WED_10)).to.equal(undefined);
  });

  it('maps the preconditioning settings and leaves an unknown one out', () => {
    const pre = (v: unknown): unknown => departureOf({ dayOfWeek: 'MONDAY', hour: 8, minutes: 0, preConditioningSetting: v }, WED_10)?.preconditioning;
    expect(['OFF', 'COOL', 'MEDIUM', 'WARM'].map(pre)).to.deep.equal(['off', 'cool', 'medium', 'warm']);
    expect(pre('warm')).to.equal('warm');
    expect(pre(' Cool ')).to.equal('cool');
    expect(departureOf({ dayOfWeek: 'MONDAY', hour: 8, minutes: 0, preconditioning: 'MEDIUM' }, WED_10)?.preconditioning).to.equal('medium');
    for (const v of ['HOT', '', null, 1, undefined]) {
      const d = departureOf({ dayOfWeek: 'MONDAY', hour: 8, minutes: 0, preConditioningSetting: v }, WED_10);
      expect(d, String(v)).to.not.have.property('preconditioning');
      expect(d, String(v)).to.include({ day: 'monday', time: '08:00' });
    }
  });
});

describe('lib/api/schedules: FordConnect v1', () => {
  it('maps the simulator\'s charge schedules and next departure into the documented object', () => {
    const out: ChargeSchedules = mapFordConnectV1Schedules(ID, v1Schedules(), v1Departure(), WED_10);
    expect(out).to.deep.equal({
      vehicleId: ID,
      schedules: [{ days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], windows: [{ start: '22:00', end: '06:00' }], targetLevel: 80 }],
      nextDeparture: { day: 'tuesday', time: '08:00', at: '2026-12-01T08:00:00.000Z', preconditioning: 'cool' },
    });
  });

  it('maps several schedules, windows and day spellings', () => {
    const out = mapFordConnectV1Schedules(
      ID,
      v1Schedules([
        { days: 'WEEKDAY', chargeWindows: [{ startTime: '22:00', endTime: '06:00' }], desiredChargeLevel: 80 },
        { days: 'WEEKEND', chargeWindows: [{ startTime: '0:30', endTime: '05:00:00' }, { startTime: '13:00', endTime: '15:00' }], desiredChargeLevel: 100 },
        { days: ['MONDAY', 'THURSDAY'], chargeWindows: [{ startTime: '01:00', endTime: '02:00' }] },
      ]),
      v1Departure(),
      WED_10,
    );
    expect(out.schedules).to.deep.equal([
      { days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], windows: [{ start: '22:00', end: '06:00' }], targetLevel: 80 },
      { days: ['saturday', 'sunday'], windows: [{ start: '00:30', end: '05:00' }, { start: '13:00', end: '15:00' }], targetLevel: 100 },
      { days: ['monday', 'thursday'], windows: [{ start: '01:00', end: '02:00' }] },
    ]);
  });

  it('refuses an answer without a chargeSchedules list as bad-response', () => {
    for (const body of [null, undefined, 'text', [], {}, { status: 'SUCCESS' }, { chargeSchedules: 'WEEKDAY' }, { chargeSchedules: {} }, { schedules: [] }]) {
      const err = thrown(() => mapFordConnectV1Schedules(ID, body, v1Departure(), WED_10));
      expect(err, JSON.stringify(body)).to.be.instanceOf(ApiError);
      expect((err as ApiError).kind, JSON.stringify(body)).to.equal('bad-response');
    }
  });

  it('keeps an empty list as no schedules', () => {
    expect(mapFordConnectV1Schedules(ID, v1Schedules([]), v1Departure(), WED_10).schedules).to.deep.equal([]);
  });

  it('drops windows without valid times, and a schedule left without windows or days', () => {
    const out = mapFordConnectV1Schedules(
      ID,
      v1Schedules([
        {
          days: 'WEEKDAY',
          chargeWindows: [{ startTime: '22:00' }, { endTime: '06:00' }, { startTime: '25:00', endTime: '06:00' }, { startTime: '', endTime: '' }, null, 'x', { startTime: '23:00', endTime: '05:00' }],
          desiredChargeLevel: 80,
        },
        { days: 'WEEKEND', chargeWindows: [{ startTime: 'soon', endTime: 'later' }], desiredChargeLevel: 80 },
        { days: 'WEEKEND', desiredChargeLevel: 80 },
        { days: 'FUNDAY', chargeWindows: [{ startTime: '22:00', endTime: '06:00' }] },
        null,
        'WEEKDAY',
      ]),
      undefined,
      WED_10,
    );
    expect(out.schedules).to.deep.equal([{ days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], windows: [{ start: '23:00', end: '05:00' }], targetLevel: 80 }]);
  });

  it('clamps the charge level to 100 and leaves a nonsense level out', () => {
    const target = (level: unknown): number | undefined =>
      mapFordConnectV1Schedules(ID, v1Schedules([{ days: 'DAILY', chargeWindows: [{ startTime: '22:00', endTime: '06:00' }], desiredChargeLevel: level }]), undefined, WED_10).schedules[0].targetLevel;
    expect(target(120)).to.equal(100);
    expect(target(100)).to.equal(100);
    expect(target(0)).to.equal(0);
    expect(target(90.5)).to.equal(90.5);
    expect(target('85')).to.equal(85);
    for (const v of [-5, '', 'full', null, undefined, NaN, {}]) expect(target(v), String(v)).to.equal(undefined);
  });

  it('leaves nextDeparture out when none is set or the answer has none', () => {
    // The simulator's shape when no departure time is set.
    const disabled = v1Departure({ dayOfWeek: 'MONDAY', enabled: false, hour: 0, minutes: 0, preConditioningSetting: 'OFF' });
    for (const departures of [disabled, undefined, null, {}, { status: 'SUCCESS' }, { departureTimes: null }]) {
      const out = mapFordConnectV1Schedules(ID, v1Schedules(), departures, WED_10);
      expect(out, JSON.stringify(departures)).to.not.have.property('nextDeparture');
      expect(out.schedules).to.have.length(1);
    }
  });

  it('takes the soonest when the answer lists several departures', () => {
    const departures = { departureTimes: [{ dayOfWeek: 'FRIDAY', enabled: true, hour: 7, minutes: 0 }, { dayOfWeek: 'THURSDAY', enabled: true, hour: 7, minutes: 0, preConditioningSetting: 'MEDIUM' }] };
    expect(mapFordConnectV1Schedules(ID, v1Schedules(), departures, WED_10).nextDeparture).to.deep.equal({ day: 'thursday', time: '07:00', at: '2026-11-26T07:00:00.000Z', preconditioning: 'medium' });
  });
});

describe('lib/api/schedules: FordConnect Query', () => {
  // The shapes of Ford's OpenAPI description, as the simulator serves them.
  const body = {
    chargeSchedules: [
      {
        vin: '3FMTK3SU0PMA00001',
        location: { id: 1, name: 'Home', type: 'SAVED', latitude: 42.28, longitude: -83.74, timeZoneOffset: 'UTC+00:00' },
        chargeProfile: { chargeMode: 'VALUE_CHARGE', targetSoc: 90, schedules: [{ days: 'WEEKDAY', windows: [{ startTime: '23:00', endTime: '05:30' }] }, { days: 'WEEKEND', windows: [{ startTime: '01:00', endTime: '04:00' }] }] },
      },
    ],
  };
  const departures = {
    departureTimes: {
      vin: '3FMTK3SU0PMA00001',
      isDepartureTimesEnabled: true,
      timeZoneId: 'UTC',
      goTimesScheduleCloudData: {
        calendarDaysList: [
          { calendarDay: 4, scheduleFromCloudList: [{ scheduleId: 1, hr: 7, min: 15, preConditioningTemp: 'High' }] },
          { calendarDay: 6, scheduleFromCloudList: [{ scheduleId: 2, hr: 9, min: 0, preConditioningTemp: 'Off' }] },
        ],
      },
    },
  };

  it('maps each schedule of each charge profile with the profile\'s target, and never the charge location', () => {
    const out = mapFconQuerySchedules(ID, body, departures, WED_10);
    expect(out.schedules).to.deep.equal([
      { days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], windows: [{ start: '23:00', end: '05:30' }], targetLevel: 90 },
      { days: ['saturday', 'sunday'], windows: [{ start: '01:00', end: '04:00' }], targetLevel: 90 },
    ]);
    expect(JSON.stringify(out)).to.not.match(/42\.28|-83\.74|latitude/);
  });

  it('takes the soonest departure from the calendar days (Monday 1 … Sunday 7) with its preconditioning', () => {
    expect(mapFconQuerySchedules(ID, body, departures, WED_10).nextDeparture).to.deep.equal({ day: 'thursday', time: '07:15', at: '2026-11-26T07:15:00.000Z', preconditioning: 'warm' });
  });

  it('leaves nextDeparture out when departures are off, empty or unreadable', () => {
    const off = { departureTimes: { ...departures.departureTimes, isDepartureTimesEnabled: false } };
    for (const d of [off, {}, null, 'none', { departureTimes: { goTimesScheduleCloudData: { calendarDaysList: [{ calendarDay: 9, scheduleFromCloudList: [{ hr: 7, min: 0 }] }] } } }]) {
      expect(mapFconQuerySchedules(ID, body, d, WED_10), JSON.stringify(d)).to.not.have.property('nextDeparture');
    }
  });

  it('refuses an answer without a chargeSchedules list as bad-response', () => {
    for (const b of [null, undefined, 'text', 42, {}, { chargeSchedules: {} }, [body]]) {
      const err = thrown(() => mapFconQuerySchedules(ID, b, departures, WED_10));
      expect(err, JSON.stringify(b)).to.be.instanceOf(ApiError);
      expect((err as ApiError).kind, JSON.stringify(b)).to.equal('bad-response');
    }
  });
});
