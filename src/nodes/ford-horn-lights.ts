import type { NodeAPI } from 'node-red';
import { registerCommandNode } from './command-node';

/** Sounds the horn and flashes the lights (scope command:horn-lights): any input message triggers it. */
export = function register(RED: NodeAPI): void {
  registerCommandNode(RED, {
    type: 'ford-horn-lights',
    actions: { signal: 'horn-lights' },
    fixed: 'horn-lights',
  });
};
