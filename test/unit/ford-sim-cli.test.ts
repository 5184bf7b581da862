import { expect } from 'chai';
import { buildCommand, describe as describeSim, optionsFrom } from '../../src/cli/ford-sim';
import { startSimulator } from '../../src/sim';
import { DEFAULT_REDIRECT_URIS } from '../../src/sim/options';

function parse(args: string[]) {
  const command = buildCommand().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  command.parse(['node', 'ford-sim', ...args]);
  return optionsFrom(command.opts());
}

describe('ford-sim command line', () => {
  it('defaults to Ford-like token lifetimes on loopback', () => {
    const o = parse([]);
    expect(o).to.include({ port: 8370, host: '127.0.0.1', accessTokenSeconds: 1200, refreshTokenSeconds: 7_776_000 });
    expect(o.demoClient?.redirectUris).to.deep.equal(DEFAULT_REDIRECT_URIS);
  });

  it('turns flags into options, repeatable ones included', () => {
    const o = parse(['--port', '0', '--seed', '7', '--time-scale', '60', '--error-rate', '0.25', '--offline', 'a', '--offline', 'b', '--redirect-uri', 'https://localhost:3000']);
    expect(o).to.include({ port: 0, seed: 7, timeScale: 60 });
    expect(o.faults).to.include({ errorRate: 0.25 });
    expect(o.faults?.offlineVehicles).to.deep.equal(['a', 'b']);
    expect(o.demoClient?.redirectUris).to.deep.equal(['https://localhost:3000']);
  });

  it('takes a body fault and its rate, and refuses a body fault it does not know', () => {
    expect(parse([]).faults).to.include({ bodyFault: 'none', bodyFaultRate: 1 });
    expect(parse(['--body-fault', 'truncated', '--body-fault-rate', '0.5']).faults).to.include({ bodyFault: 'truncated', bodyFaultRate: 0.5 });
    expect(() => parse(['--body-fault', 'gibberish'])).to.throw(/Allowed choices are none, truncated, non-json, html, wrong-types, missing-fields/);
  });

  it('refuses nonsense with a clear message', () => {
    expect(() => parse(['--port', 'abc'])).to.throw(/expected a number/);
    expect(() => parse(['--error-rate', '2'])).to.throw(/from 0 to 1/);
    expect(() => parse(['--no-such-flag'])).to.throw(/unknown option/);
  });

  it('prints where everything is, with the demo client', async () => {
    const sim = await startSimulator({ port: 0 });
    try {
      const text = describeSim(sim);
      expect(text).to.include(`${sim.url}/owner/apps`).and.include('client id demo-client').and.include('Vehicles');
    } finally {
      await sim.close();
    }
  });
});
