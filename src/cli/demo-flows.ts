import fs from 'node:fs';
import path from 'node:path';

/**
 * The example flows as `npm start` deploys them: every file under
 * `examples/flows/` whose node types this Node-RED has, merged into one flow
 * set (config nodes shared by id), with the demo vehicle, the editor's port
 * and the demo broker filled in.
 */

export const DEMO_ACCOUNT_ID = 'ford-demo-account';
const VEHICLE_NODE_TYPES = new Set(['ford-status', 'ford-location', 'ford-lock', 'ford-remote-start', 'ford-horn-lights', 'ford-charge']);

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface ExampleFile {
  name: string;
  nodes: FlowNode[];
}

export function readExamples(dir: string): ExampleFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const nodes = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown;
      if (!Array.isArray(nodes)) throw new Error(`${f}: an example flow must be a JSON array of nodes`);
      return { name: f.replace(/\.json$/, ''), nodes: nodes as FlowNode[] };
    });
}

export interface DemoSettings {
  /** Node types this Node-RED knows (GET /nodes). */
  knownTypes: Set<string>;
  vehicleId: string;
  editorPort: number;
  mqttPort?: number;
  /** Which of Ford's APIs the demo account speaks to the simulator. */
  apiFlavour: 'fordconnect-v1' | 'fcon-query';
}

export interface DemoFlows {
  nodes: FlowNode[];
  deployed: string[];
  /** Examples left out, with the types they need. */
  skipped: { name: string; missing: string[] }[];
}

const BUILT_IN_TYPES = new Set(['tab', 'subflow', 'group', 'junction']);

export function demoFlows(examples: ExampleFile[], settings: DemoSettings): DemoFlows {
  const byId = new Map<string, FlowNode>();
  const deployed: string[] = [];
  const skipped: DemoFlows['skipped'] = [];
  for (const example of examples) {
    const missing = [...new Set(example.nodes.map((n) => n.type).filter((t) => !BUILT_IN_TYPES.has(t) && !t.startsWith('subflow:') && !settings.knownTypes.has(t)))];
    // One unknown type would stop every flow ("waiting for missing types"): leave that example out.
    if (missing.length > 0) {
      skipped.push({ name: example.name, missing });
      continue;
    }
    deployed.push(example.name);
    for (const node of example.nodes) if (!byId.has(node.id)) byId.set(node.id, prepare(node, settings));
  }
  return { nodes: [...byId.values()], deployed, skipped };
}

function prepare(original: FlowNode, settings: DemoSettings): FlowNode {
  const node = { ...original };
  if (VEHICLE_NODE_TYPES.has(node.type) && !node.vehicleId) node.vehicleId = settings.vehicleId;
  if (node.type === 'ford-account' && node.preset === 'simulator') {
    node.redirectUri = `http://127.0.0.1:${settings.editorPort}/ford-connect/auth/callback`;
    node.apiFlavour = settings.apiFlavour;
  }
  if (node.type === 'mqtt-broker' && settings.mqttPort !== undefined && (node.broker === '127.0.0.1' || node.broker === 'localhost')) node.port = String(settings.mqttPort);
  return node;
}
