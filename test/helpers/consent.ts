/** The owner's browser for consent pages: the simulator's own demo browser (src/sim/owner/demo-browser.ts). */
export { consentAt, type ConsentOptions } from '../../src/sim/owner/demo-browser';
