import { TokenManager } from '../../src/lib/oauth/token-manager';
import { collectStrings, type Captured, type Source } from './leak-scan';

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED's runtime internals are CommonJS, without types */
type Method = (this: NodeLike, ...args: unknown[]) => unknown;
interface NodeLike {
  id?: string;
  type?: string;
  name?: string;
}
/** The prototype every Node-RED node shares (node-red-node-test-helper spies on the same one). */
const NODE_PROTOTYPE = require('@node-red/runtime/lib/nodes/Node').prototype as Record<string, Method>;
/** The log every node.error / RED.log.* goes through. */
const RED_LOG = require('@node-red/util').log as { log: (msg: unknown) => void };
/* eslint-enable @typescript-eslint/no-require-imports */

const NODE_METHODS: Record<string, Source> = { status: 'status', error: 'error', warn: 'warn', log: 'log', debug: 'log', trace: 'log' };

/**
 * Captures what leaves Node-RED nodes while a test runs, independent of the
 * test helper's own spies: every node.status / error / warn / log / debug /
 * trace call, every node.send (output 1 as flow data, output 2 as audit),
 * every RED.log message, process stdout and stderr, and the PKCE verifiers
 * the kit creates. Start it before `helper.load` (the helper's spies then wrap
 * these hooks and give them back on unload) and stop it after `helper.unload`.
 */
export class LeakWatch {
  readonly captured: Captured[] = [];
  /** PKCE verifiers of every authorization the kit began (the provider sees only the ones completed). */
  readonly verifiers: string[] = [];
  /** Unhandled rejections while watching: a crash, whatever the flow did. */
  readonly crashes: unknown[] = [];
  private restores: (() => void)[] = [];

  get watching(): boolean {
    return this.restores.length > 0;
  }

  add(source: Source, where: string, value: unknown, nodeType?: string): void {
    this.captured.push({ source, where, nodeType, strings: collectStrings(value) });
  }

  start(): void {
    if (this.watching) throw new Error('LeakWatch already started');
    // The hooks run as the node (their `this`): the watch is reached through this binding.
    const add = this.add.bind(this);
    const verifiers = this.verifiers;
    const crashes = this.crashes;

    for (const [name, source] of Object.entries(NODE_METHODS)) {
      const original = NODE_PROTOTYPE[name];
      NODE_PROTOTYPE[name] = function (this: NodeLike, ...args: unknown[]) {
        const who = `${name} of ${this.type} ${this.id}`;
        add(source, who, args[0], this.type);
        if (name === 'error' && args[1] !== undefined) add('flow-msg', `message of ${who}`, args[1], this.type);
        return original.apply(this, args);
      };
      this.restores.push(() => (NODE_PROTOTYPE[name] = original));
    }

    const send = NODE_PROTOTYPE.send;
    NODE_PROTOTYPE.send = function (this: NodeLike, ...args: unknown[]) {
      const msgs = args[0];
      const outputs = Array.isArray(msgs) ? msgs : [msgs];
      outputs.forEach((out, i) => {
        if (out === null || out === undefined) return;
        const source: Source = i === 0 ? 'output1' : 'audit';
        add(source, `output ${i + 1} of ${this.type} ${this.id}`, out, this.type);
      });
      return send.apply(this, args);
    };
    this.restores.push(() => (NODE_PROTOTYPE.send = send));

    const log = RED_LOG.log;
    RED_LOG.log = function (msg: unknown) {
      const m = msg as NodeLike & { level?: number };
      add('log', `log ${m?.type ?? 'runtime'} ${m?.id ?? ''} level ${m?.level ?? '?'}`, msg, m?.type);
      return log.call(this, msg);
    };
    this.restores.push(() => (RED_LOG.log = log));

    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write;
      const name = stream === process.stdout ? 'stdout' : 'stderr';
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        add('stdio', name, typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof stream.write;
      this.restores.push(() => (stream.write = write));
    }

    const begin = TokenManager.prototype.beginAuthorization;
    TokenManager.prototype.beginAuthorization = function (this: TokenManager, ...args: Parameters<typeof begin>) {
      const started = begin.apply(this, args);
      verifiers.push(started.codeVerifier);
      return started;
    };
    this.restores.push(() => (TokenManager.prototype.beginAuthorization = begin));

    const onRejection = (reason: unknown): void => {
      crashes.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    this.restores.push(() => process.off('unhandledRejection', onRejection));
  }

  stop(): void {
    for (const restore of this.restores.reverse()) restore();
    this.restores = [];
  }
}
