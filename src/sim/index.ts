/** Library entry: start a simulator from tests or scripts. */
export { startSimulator, createApp, type RunningSimulator, type RestartableSimulator } from './server';
export { BODY_FAULTS, defaultFaults, type BodyFault, type FaultSettings } from './control/faults';
export { World, DEMO_OWNERS } from './world';
export { defaultOptions, resolveOptions, DEFAULT_REDIRECT_URIS, type SimOptions } from './options';
export { SCOPES, isSensitiveScope } from './oauth/scopes';
