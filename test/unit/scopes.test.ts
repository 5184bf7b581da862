import { expect } from 'chai';
import { effectiveScopes, isScope, isSensitive, parseScopeString } from '../../src/lib/scopes';

describe('lib/scopes', () => {
  it('knows the catalogue and which scopes are sensitive', () => {
    expect(isScope('read:status')).to.equal(true);
    expect(isScope('read:everything')).to.equal(false);
    expect(isScope(42)).to.equal(false);
    expect(isSensitive('read:location')).to.equal(true);
    expect(isSensitive('command:remote-start')).to.equal(true);
    expect(isSensitive('read:status')).to.equal(false);
  });

  it('grants only what is ticked and present in the token', () => {
    expect(effectiveScopes(['read:status', 'command:lock'], ['read:status', 'read:location'])).to.deep.equal(['read:status']);
  });

  it('takes Ford\'s single all-access scope as "what the owner ticked", only where the caller says so', () => {
    const ford = (s: string) => s === 'access' || s.endsWith('/access');
    expect(effectiveScopes(['read:status', 'command:lock'], ['https://x/fordconnect/access', 'openid', 'offline_access'], ford)).to.deep.equal(['read:status', 'command:lock']);
    expect(effectiveScopes(['read:status'], ['access'], ford)).to.deep.equal(['read:status']);
    // Elsewhere openid / offline_access / access grant nothing of ours.
    expect(effectiveScopes(['read:status', 'command:lock'], ['openid', 'offline_access'])).to.deep.equal([]);
    expect(effectiveScopes(['read:status'], ['access'])).to.deep.equal([]);
  });

  it('never turns an unknown ticked name into a scope', () => {
    expect(effectiveScopes(['read:status', 'admin'], undefined)).to.deep.equal(['read:status']);
  });

  it('parses space-separated scope strings', () => {
    expect(parseScopeString(' read:status  command:lock ')).to.deep.equal(['read:status', 'command:lock']);
    expect(parseScopeString(undefined)).to.deep.equal([]);
  });
});
