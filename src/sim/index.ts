/** Library entry: start a simulator from tests or scripts. */
export { startSimulator, createApp, type RunningSimulator } from './server';
export { World, DEMO_OWNERS } from './world';
export { defaultOptions, resolveOptions, DEFAULT_REDIRECT_URIS, type SimOptions } from './options';
export { SCOPES, isSensitiveScope } from './oauth/scopes';
