#!/usr/bin/env node
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { vehicleIdFromVin } from '../lib/api/fcon-query';
import { startSimulator } from '../sim/server';
import { startDemoBroker, type DemoBroker } from './demo-broker';
import { setUpDemo, waitForEditor } from './demo-setup';
import { describe as describeSimulator } from './ford-sim';

/**
 * `npm start`: the simulator plus a Node-RED of its own (user dir under the
 * project, kit loaded from this checkout), so an owner can try everything
 * without a Ford account. Ctrl-C stops both.
 */

const projectRoot = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = 'node-red-contrib-ford-connect';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function buildCommand(): Command {
  return new Command('npm start')
    .description('Runs the Ford API simulator and a Node-RED with this kit loaded.')
    .addOption(new Option('--port <port>', 'Node-RED editor port').default(1880).env('FORD_NODE_RED_PORT').argParser(port))
    .addOption(new Option('--sim-port <port>', 'simulator port').default(8370).env('FORD_SIM_PORT').argParser(port))
    .addOption(new Option('--user-dir <dir>', 'Node-RED user directory').default(path.join(projectRoot, '.node-red')).env('FORD_NODE_RED_USER_DIR'))
    .addOption(new Option('--mqtt-port <port>', 'port of the demo MQTT broker for the Home Assistant example (0 = none)').default(1883).env('FORD_MQTT_PORT').argParser(port))
    .addOption(new Option('--seed <n>', 'simulator seed: the same vehicles on every start, so saved flows keep working').default(2026).env('FORD_SIM_SEED').argParser(integer))
    .addOption(new Option('--api <api>', "which of Ford's APIs the demo account uses: v1 (FordConnect v1: reads and commands) or query (FordConnect Query: what a Ford account gives you today, read-only)").choices(['v1', 'query']).default('v1').env('FORD_DEMO_API'))
    .option('--time-scale <x>', 'simulated seconds per real second', '1');
}

/** Links this checkout into the user dir so Node-RED loads it as an installed module (nodes, icons, examples). */
export function prepareUserDir(userDir: string, port: number, packageRoot: string = projectRoot): void {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  const pkgFile = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkgFile)) {
    fs.writeFileSync(pkgFile, JSON.stringify({ name: 'ford-connect-demo', description: 'Node-RED user dir of npm start', version: '0.0.0', private: true, dependencies: { [PACKAGE_NAME]: `file:${packageRoot}` } }, null, 2));
  }
  const link = path.join(userDir, 'node_modules', PACKAGE_NAME);
  let current: string | undefined;
  try {
    current = fs.readlinkSync(link);
  } catch {
    current = undefined;
  }
  if (current !== packageRoot) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(packageRoot, link, 'dir');
  }
  const settings = `// Written by npm start; edit freely, it is not overwritten.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: process.env.PORT || ${port},
    flowFile: 'flows.json',
    // File nodes with a relative name (the audit example's ford-audit.jsonl) write here, not into the checkout.
    fileWorkingDirectory: __dirname,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    // A demo should not open with a consent prompt for Node-RED's update check.
    telemetry: { enabled: false },
};
`;
  const settingsFile = path.join(userDir, 'settings.js');
  if (!fs.existsSync(settingsFile)) fs.writeFileSync(settingsFile, settings);
}

async function main(): Promise<void> {
  const command = buildCommand();
  command.parse(process.argv);
  const opts = command.opts<{ port: number; simPort: number; userDir: string; timeScale: string; mqttPort: number; seed: number; api: 'v1' | 'query' }>();
  const redirectUris = [`http://127.0.0.1:${opts.port}/ford-connect/auth/callback`, `http://localhost:${opts.port}/ford-connect/auth/callback`, 'https://localhost:3000'];
  const sim = await startSimulator({ port: opts.simPort, seed: opts.seed, timeScale: Number(opts.timeScale) || 1, demoClient: { id: 'demo-client', secret: 'demo-secret', redirectUris } });
  console.log(describeSimulator(sim));
  const broker = opts.mqttPort > 0 ? await startDemoBroker(opts.mqttPort) : { skipped: 'turned off (--mqtt-port 0)' };
  console.log('skipped' in broker ? `Demo MQTT broker: not started: ${broker.skipped}` : `Demo MQTT broker: mqtt://127.0.0.1:${broker.port} (for the Home Assistant example; use Mosquitto with Home Assistant)`);

  prepareUserDir(opts.userDir, opts.port);
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', opts.userDir, '--port', String(opts.port), '--settings', path.join(opts.userDir, 'settings.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FORD_SIM_URL: sim.url },
  });

  const editorUrl = `http://127.0.0.1:${opts.port}`;
  const demoVehicle = sim.world.fleet.ownedBy('owner-1').find((v) => v.canCharge()) ?? sim.world.fleet.ownedBy('owner-1')[0];
  waitForEditor(editorUrl)
    .then(() =>
      setUpDemo({
        editorUrl,
        examplesDir: path.join(projectRoot, 'examples', 'flows'),
        vehicleId: demoVehicle.id,
        flowVehicleIds: { 'fordconnect-v1': demoVehicle.id, 'fcon-query': vehicleIdFromVin(demoVehicle.spec.vin) },
        editorPort: opts.port,
        mqttPort: 'port' in broker ? broker.port : undefined,
        apiFlavour: opts.api === 'query' ? 'fcon-query' : 'fordconnect-v1',
        clientId: sim.world.options.demoClient.id,
        clientSecret: sim.world.options.demoClient.secret,
      }),
    )
    .then(
      (demo) => {
        if (demo.freshFlows) console.log(`Example flows deployed: ${demo.deployed.join(', ') || 'none'}`);
        for (const s of demo.skipped) console.log(`Example "${s.name}" not deployed: it uses nodes of another package (${s.missing.join(', ')}) and its server; import it from Import > Examples when you have them`);
        if (demo.granted) console.log(`Demo account connected as owner@example.com on ${opts.api === 'query' ? 'FordConnect Query (read-only: command nodes refuse, as on a real Ford account today)' : 'FordConnect v1'} (vehicle "${demoVehicle.spec.nickName}"), scopes: ${demo.granted.join(' ')}`);
        console.log(`\nNode-RED editor: ${editorUrl}/  (user dir ${opts.userDir})\nSimulator owner pages: ${sim.url}/owner/apps · ${sim.url}/owner/audit\nPress Ctrl-C to stop both.\n`);
      },
      (err: unknown) => console.error(`npm start: setting up the demo failed: ${(err as Error).message}; the editor is still at ${editorUrl}/`),
    );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code) => {
    const closeBroker = 'close' in broker ? (broker as DemoBroker).close() : Promise.resolve();
    void Promise.all([closeBroker, sim.close()]).then(() => process.exit(stopping ? 0 : (code ?? 1)));
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    console.error(e.code === 'EADDRINUSE' ? `npm start: a port is already in use (${e.message}); choose others with --port / --sim-port` : `npm start: ${e.message ?? String(err)}`);
    process.exit(1);
  });
}
