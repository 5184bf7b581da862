// The helper ships no types; this is the part the suites use.
declare module 'node-red-node-test-helper' {
  import type { Test } from 'supertest';
  import type TestAgent from 'supertest/lib/agent';
  interface TestNode {
    id: string;
    type: string;
    on(event: string, cb: (...args: unknown[]) => void): void;
    receive(msg: Record<string, unknown>): void;
    [key: string]: unknown;
  }
  interface Helper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    settings(settings: Record<string, unknown>): void;
    load(nodes: unknown, flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(done: (err?: unknown) => void): void;
    stopServer(done: (err?: unknown) => void): void;
    request(): TestAgent<Test>;
    url(): string;
    clearFlows(): Promise<void>;
    log(): { args: unknown[][] } & Record<string, unknown>;
  }
  const helper: Helper;
  export = helper;
}
