import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TokenStore, type StoredTokens } from '../../src/lib/oauth/token-store';

const tokens: StoredTokens = { accessToken: 'AT-secret', tokenType: 'Bearer', expiresAt: 1_800_000_000_000, refreshToken: 'RT-secret', grantedScopes: ['read:status'], authorizedAt: 1_700_000_000_000 };

describe('lib/oauth/token-store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-tokens-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips tokens in a 0600 file and survives a new instance (a restart)', () => {
    new TokenStore(dir, 'acc/1').save(tokens);
    const again = new TokenStore(dir, 'acc/1');
    expect(again.load()).to.deep.equal(tokens);
    expect(path.basename(again.file)).to.equal('tokens-acc_1.json');
    expect(fs.statSync(again.file).mode & 0o777).to.equal(0o600);
    expect(fs.readdirSync(dir)).to.deep.equal(['tokens-acc_1.json']);
  });

  it('encrypts with the credential secret: no token in the file, wrong secret fails', () => {
    new TokenStore(dir, 'a', 'credential-secret').save(tokens);
    const raw = fs.readFileSync(path.join(dir, 'tokens-a.json'), 'utf8');
    expect(raw).to.not.include('AT-secret');
    expect(raw).to.not.include('RT-secret');
    expect(new TokenStore(dir, 'a', 'credential-secret').load()).to.deep.equal(tokens);
    expect(() => new TokenStore(dir, 'a', 'other').load()).to.throw();
    expect(() => new TokenStore(dir, 'a').load()).to.throw(/credentialSecret/);
  });

  it('loads nothing when there is no file, and clears', () => {
    const store = new TokenStore(dir, 'x');
    expect(store.load()).to.equal(undefined);
    store.save(tokens);
    store.clear();
    expect(store.load()).to.equal(undefined);
  });
});
