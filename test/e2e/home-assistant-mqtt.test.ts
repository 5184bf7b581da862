import net from 'node:net';
import { expect } from 'chai';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import type { RunningSimulator } from '../../src/sim';
import { example, prepared, startNodeRed, waitFor, type FlowNode, type RunningNodeRed } from '../helpers/node-red-runtime';
import { withSimulator } from '../helpers/sim';

/**
 * Example 6 (Home Assistant via MQTT discovery) end to end: an embedded MQTT
 * broker (aedes) where Home Assistant's Mosquitto would be, the example
 * deployed in a real Node-RED against the simulator, and an MQTT client
 * playing Home Assistant: it reads the discovery configs and state topics,
 * and publishes what the lock and the buttons send.
 */

const ACCOUNT_SCOPES = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];

interface Received {
  topic: string;
  text: string;
  retain: boolean;
  seq: number;
}

interface Broker {
  port: number;
  /** Topic filters Node-RED's mqtt in nodes subscribed to. */
  subscribed: Set<string>;
  close(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const subscribed = new Set<string>();
  aedes.on('subscribe', (subscriptions) => {
    for (const s of subscriptions) subscribed.add(s.topic);
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    subscribed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}

/** An MQTT client that records everything it receives on `filters`. */
async function watcher(port: number, filters: string[]): Promise<{ client: MqttClient; received: Received[] }> {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000 });
  const received: Received[] = [];
  let seq = 0;
  client.on('message', (topic, payload, packet) => received.push({ topic, text: payload.toString(), retain: packet.retain, seq: ++seq }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, received };
}

describe('example 6: Home Assistant via MQTT discovery (e2e, aedes broker)', function () {
  this.timeout(30_000);
  let broker: Broker;
  let sim: RunningSimulator;
  let red: RunningNodeRed;
  let ha: { client: MqttClient; received: Received[] };
  let skyId: string;
  let key: string;
  let uid: string;
  let nodes: FlowNode[];
  const sky = (): Record<string, unknown> => sim.world.fleet.snapshot(skyId) ?? {};
  const last = (topic: string, since = 0): Received | undefined => ha.received.filter((m) => m.topic === topic && m.seq > since).at(-1);
  const json = (topic: string, since = 0): Record<string, unknown> | undefined => {
    const m = last(topic, since);
    return m ? (JSON.parse(m.text) as Record<string, unknown>) : undefined;
  };
  const mark = (): number => ha.received.at(-1)?.seq ?? 0;
  const detail = (): string => `MQTT: ${ha.received.map((m) => m.topic).join(', ')}\n${red.output().slice(-2000)}`;
  const find = (type: string, name?: string): FlowNode => {
    const hit = nodes.find((n) => n.type === type && (name === undefined || n.name === name));
    if (!hit) throw new Error(`no ${type} ${name ?? ''} in example 6`);
    return hit;
  };
  /** Example 6 as shipped, on the demo vehicle, its broker node pointed at the embedded broker. */
  const deploy = async (patch: Record<string, Record<string, unknown>> = {}): Promise<void> => {
    const state = await red.deploy(prepared(nodes, skyId, { 'ford-demo-mqtt': { port: String(broker.port) }, ...patch }));
    expect(state).to.deep.include({ state: 'start' });
  };
  const publish = (topic: string, text: string): Promise<unknown> => ha.client.publishAsync(topic, text, { qos: 1 });

  before(async () => {
    broker = await startBroker();
    sim = await withSimulator({ commandDelayMs: 200, rateLimits: { perClientPerMinute: 0, perVehiclePerMinute: 0 } });
    const car = sim.world.fleet.ownedBy('owner-1').find((v) => v.nickName === 'Sky');
    if (!car) throw new Error('the simulator has no demo vehicle "Sky"');
    skyId = car.id;
    key = skyId.slice(-4).toLowerCase();
    uid = `ford_${key}`;
    nodes = example('06 ').nodes;
    ha = await watcher(broker.port, ['homeassistant/#', 'ford/#']);
    red = await startNodeRed({ simUrl: sim.url });
  });

  after(async () => {
    await red?.stop();
    await ha?.client.endAsync(true).catch(() => undefined);
    await sim?.close();
    await broker?.close();
  });

  it('announces the car with retained discovery configs and publishes its state (location not opted in: no tracker)', async () => {
    await deploy({ [find('ford-location').id]: { optIn: false } });
    await red.authorize('ford-demo-account', ACCOUNT_SCOPES);
    const configs = ['sensor/%_battery', 'sensor/%_range', 'sensor/%_odometer', 'lock/%_lock', 'button/%_horn', 'button/%_confirm_unlock'].map((t) => `homeassistant/${t.replace('%', uid)}/config`);
    await waitFor(() => configs.every((t) => last(t)) && last(`ford/${key}/state`), 'the discovery configs and the state', 10_000, detail);

    const device = { identifiers: [uid], name: 'Sky', manufacturer: 'Ford', model: '2023 Mustang Mach-E' };
    const availability = [{ topic: 'ford/bridge/availability' }, { topic: `ford/${key}/availability` }];
    for (const topic of configs) {
      const config = json(topic) as Record<string, unknown>;
      expect(config, topic).to.deep.include({ device, availability, availability_mode: 'all' });
      expect(config.unique_id, topic).to.equal(`${uid}_${topic.split('/')[2].slice(uid.length + 1)}`);
      expect(config.name, topic).to.be.a('string');
    }
    expect(json(configs[0])).to.deep.include({ state_topic: `ford/${key}/state`, value_template: '{{ value_json.battery }}', unit_of_measurement: '%', device_class: 'battery' });
    expect(json(configs[1])).to.deep.include({ state_topic: `ford/${key}/state`, value_template: '{{ value_json.range }}', unit_of_measurement: 'km' });
    expect(json(configs[3])).to.deep.include({ command_topic: `ford/${key}/lock/set`, state_topic: `ford/${key}/lock`, payload_lock: 'LOCK', payload_unlock: 'UNLOCK', state_locked: 'LOCKED', state_unlocked: 'UNLOCKED' });
    expect(json(configs[4])).to.deep.include({ command_topic: `ford/${key}/horn/press`, payload_press: 'PRESS' });
    expect(json(configs[5])).to.deep.include({ command_topic: `ford/${key}/unlock/confirm`, payload_press: 'PRESS' });
    // A battery-electric car: no fuel sensor.
    expect(last(`homeassistant/sensor/${uid}_fuel/config`)).to.equal(undefined);

    const state = json(`ford/${key}/state`) as Record<string, unknown>;
    const truth = sky();
    expect(state).to.include({ lock: 'locked', battery: Math.round(Number(truth.batteryPercent) * 10) / 10 });
    expect(state.range).to.be.a('number').within(Math.floor(Number(truth.batteryRangeKm)) - 1, Math.ceil(Number(truth.batteryRangeKm)) + 1);
    expect(state.odometer).to.equal(Math.round(Number(truth.odometerKm)));
    expect(state).to.not.have.property('fuel');
    await waitFor(() => last(`ford/${key}/lock`)?.text === 'LOCKED' && last(`ford/${key}/availability`)?.text === 'online' && last('ford/bridge/availability')?.text === 'online', 'the lock state and availability', 5000, detail);

    // Location not opted in on the node: the read is refused, and Home Assistant gets no tracker.
    const location = find('ford-location');
    await waitFor(() => red.comms.statusOf(location.id)?.text === 'not opted in', 'the location node to say why it does not read (not opted in)', 5000, detail);
    await new Promise((r) => setTimeout(r, 300));
    expect(ha.received.filter((m) => m.topic.includes('device_tracker') || m.topic === `ford/${key}/location`)).to.deep.equal([]);
  });

  it('round-trips LOCK and UNLOCK (confirmed with the Confirm unlock button) to the car', async () => {
    for (const topic of ['ford/+/lock/set', 'ford/+/horn/press', 'ford/+/unlock/confirm']) await waitFor(() => broker.subscribed.has(topic), `Node-RED subscribed to ${topic}`);
    expect(sky().locked).to.equal(true);

    // UNLOCK only parks the command: the pending confirmation is published, the car stays locked.
    let since = mark();
    await publish(`ford/${key}/lock/set`, 'UNLOCK');
    const pending = await waitFor(() => json(`ford/${key}/unlock/pending`, since), 'the pending unlock', 10_000, detail);
    expect(pending.status).to.equal('pending-confirmation');
    expect(Date.parse(String(pending.expiresAt))).to.be.greaterThan(Date.now());
    expect(sky().locked).to.equal(true);
    expect(sim.world.counts.get('api.command.unlock')).to.equal(0);

    // The owner presses Confirm unlock: the parked unlock runs, and the lock entity follows the car.
    since = mark();
    await publish(`ford/${key}/unlock/confirm`, 'PRESS');
    await waitFor(() => last(`ford/${key}/lock`, since)?.text === 'UNLOCKED', 'UNLOCKED on the lock state topic', 10_000, detail);
    expect(sky().locked).to.equal(false);

    since = mark();
    await publish(`ford/${key}/lock/set`, 'LOCK');
    await waitFor(() => last(`ford/${key}/lock`, since)?.text === 'LOCKED', 'LOCKED on the lock state topic', 10_000, detail);
    expect(sky().locked).to.equal(true);

    // A second press with nothing waiting does nothing (the flow says why).
    const route = find('function', 'which vehicle?');
    const commsSince = red.comms.mark();
    await publish(`ford/${key}/unlock/confirm`, 'PRESS');
    const warning = await waitFor(() => red.comms.debugOf(route.id, commsSince)[0], 'the "nothing to confirm" warning');
    expect(warning.value).to.equal('Confirm unlock: no unlock is waiting for confirmation');
    expect(sim.world.counts.get('api.command.unlock')).to.equal(1);
  });

  it('sounds the horn and flashes the lights when the button is pressed', async () => {
    expect(sky().lastSignalAt).to.equal(null);
    await publish(`ford/${key}/horn/press`, 'PRESS');
    await waitFor(() => typeof sky().lastSignalAt === 'string', 'horn and lights at the car', 10_000, detail);
    const result = await waitFor(() => red.comms.debugOf(find('debug', 'horn result').id)[0], 'the horn result');
    expect(result.value).to.include({ action: 'horn-lights', status: 'success' });
  });

  it('adds the device tracker once location is opted in on the node, and keeps every config retained', async () => {
    const since = mark();
    await deploy();
    const tracker = await waitFor(() => json(`homeassistant/device_tracker/${uid}/config`, since), 'the device tracker config', 10_000, detail);
    expect(tracker).to.deep.include({ unique_id: `${uid}_location`, json_attributes_topic: `ford/${key}/location`, source_type: 'gps', availability_mode: 'all' });
    expect((tracker.device as { identifiers: string[] }).identifiers).to.deep.equal([uid]);
    const position = await waitFor(() => json(`ford/${key}/location`, since), 'the position attributes');
    const truth = sky().position as { lat: number; lon: number };
    expect(position.latitude).to.be.closeTo(truth.lat, 1e-5);
    expect(position.longitude).to.be.closeTo(truth.lon, 1e-5);

    // Home Assistant restarting later finds every config on the broker.
    const late = await watcher(broker.port, ['homeassistant/#']);
    try {
      const expected = ['sensor/%_battery', 'sensor/%_range', 'sensor/%_odometer', 'lock/%_lock', 'button/%_horn', 'button/%_confirm_unlock', 'device_tracker/%'].map((t) => `homeassistant/${t.replace('%', uid)}/config`);
      await waitFor(() => expected.every((t) => late.received.some((m) => m.topic === t)), 'the retained configs', 5000);
      for (const t of expected) expect(late.received.find((m) => m.topic === t)?.retain, t).to.equal(true);
    } finally {
      await late.client.endAsync(true);
    }
  });

  it('announces again when Home Assistant says it is online', async () => {
    const since = mark();
    await publish('homeassistant/status', 'online');
    await waitFor(() => last(`homeassistant/lock/${uid}_lock/config`, since) && last(`homeassistant/device_tracker/${uid}/config`, since) && last(`ford/${key}/state`, since), 'the configs published again', 10_000, detail);
  });
});
