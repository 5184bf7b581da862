import type { NodeAPI } from 'node-red';
import { registerCommandNode } from './command-node';

/** Lock and unlock (scope command:lock); unlock waits for the owner's confirmation by default. */
export = function register(RED: NodeAPI): void {
  registerCommandNode(RED, {
    type: 'ford-lock',
    actions: { lock: 'lock', unlock: 'unlock' },
    onResult: ({ result, state, setStatus }) => {
      const lock = state?.lock ?? (result.action === 'lock' ? 'locked' : 'unlocked');
      setStatus({ fill: 'green', shape: 'dot', text: `${lock} · ${new Date().toISOString().slice(11, 16)} UTC` });
    },
  });
};
