import type { NodeAPI } from 'node-red';
import { registerCommandNode } from './command-node';

const MINUTE = 60_000;

/**
 * Remote start and stop (scope command:remote-start); start waits for the
 * owner's confirmation by default. While the engine runs, the status counts
 * down the minutes left before it stops by itself.
 */
export = function register(RED: NodeAPI): void {
  registerCommandNode(RED, {
    type: 'ford-remote-start',
    actions: { start: 'remote-start', stop: 'remote-stop' },
    onResult: ({ result, state, setStatus, every }) => {
      if (result.action === 'remote-stop') {
        setStatus({ fill: 'grey', shape: 'dot', text: 'engine off' });
        return;
      }
      const minutes = state?.engine?.running ? state.engine.remainingMinutes : undefined;
      if (minutes === undefined) {
        setStatus({ fill: 'green', shape: 'dot', text: 'engine running' });
        return;
      }
      const endsAt = Date.now() + minutes * MINUTE;
      const show = (): boolean => {
        const left = Math.ceil((endsAt - Date.now()) / MINUTE);
        if (left <= 0) {
          setStatus({ fill: 'grey', shape: 'dot', text: 'engine off (run time over)' });
          return false;
        }
        setStatus({ fill: 'green', shape: 'dot', text: `engine running · ${left} min left` });
        return true;
      };
      if (show()) every(MINUTE, show);
    },
  });
};
