import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sinon from 'sinon';
import { OAuthError, TokenManager, ReauthorizationNeededError } from '../../src/lib/oauth/token-manager';
import { TokenStore } from '../../src/lib/oauth/token-store';
import { withSimulator } from '../helpers/sim';
import { authorize, connect, DEMO_CLIENT, FLEET_CLIENT, introspect } from '../helpers/oauth-flow';

describe('lib/oauth/token-manager (against the simulator)', () => {
  let sim: RunningSimulator;
  let dir: string;

  before(async () => {
    sim = await withSimulator();
  });
  after(() => sim.close());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-tm-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function authorizedManager(extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): Promise<{ manager: TokenManager; store: TokenStore; refreshToken: string }> {
    const body = await connect(sim.url, { scopes: ['read:status'] });
    const store = new TokenStore(dir, 'acc');
    store.save({ accessToken: body.access_token, refreshToken: body.refresh_token, tokenType: 'Bearer', expiresAt: Date.now() + 1_000_000, grantedScopes: ['read:status'], authorizedAt: Date.now() });
    const manager = managerOf(store, { revokeUrl: `${sim.url}/oauth2/v2.0/revoke`, ...extra });
    return { manager, store, refreshToken: body.refresh_token };
  }

  it('builds an authorize URL with PKCE S256 and a short hex state', async () => {
    const { manager } = await authorizedManager();
    const started = manager.beginAuthorization();
    const url = new URL(started.url);
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(url.searchParams.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).to.equal(started.state).and.match(/^[0-9a-f]{16}$/);
    expect(url.searchParams.get('redirect_uri')).to.equal(DEMO_CLIENT.redirectUri);
  });

  it('forgets the tokens on Disconnect even while a refresh is in flight', async () => {
    const { manager, store } = await authorizedManager();
    const refreshing = manager.refresh().then(
      () => 'resolved',
      (e: Error) => e.name,
    );
    const result = await manager.disconnect();
    expect(await refreshing).to.equal('ReauthorizationNeededError');
    expect(result.revoked).to.equal(true);
    expect(manager.state).to.equal('unauthorized');
    expect(store.load()).to.equal(undefined);
  });

  it('a refresh running when its manager was retired still answers its callers, and leaves the rotated tokens in the file for the next manager', async () => {
    const { manager, store } = await authorizedManager();
    const before = store.load();
    const refreshing = manager.refresh();
    manager.retire();
    // Work under way (a command being followed) keeps a valid token: retiring is not a re-authorization.
    expect((await refreshing).refreshToken).to.not.equal(before?.refreshToken);
    expect(manager.state).to.equal('authorized');
    const after = store.load();
    // The provider rotated: the refresh token the file held is spent, so the file must not keep it.
    expect(after?.refreshToken).to.be.a('string').and.not.equal(before?.refreshToken);
    expect((await introspect(sim.url, after?.accessToken ?? '')).body.active).to.equal(true);
    const next = managerOf(store);
    sim.world.counts.reset();
    await next.refresh();
    expect(sim.world.alerts.all().filter((a) => a.kind === 'refresh-token-reuse'), 'the next manager replays nothing').to.deep.equal([]);
  });

  it('keeps rotated tokens in memory when the file cannot be written, and says so', async () => {
    const errors: Error[] = [];
    const { manager, store } = await authorizedManager({ onPersistError: (e) => errors.push(e) });
    // The token file's place is taken by a non-empty directory: rename fails.
    fs.rmSync(store.file);
    fs.mkdirSync(path.join(store.file, 'blocker'), { recursive: true });
    const fresh = await manager.refresh();
    expect(errors).to.have.length(1);
    expect(await manager.getAccessToken()).to.equal(fresh.accessToken);
    // The next refresh uses the rotated refresh token, not the dead one: no replay, grant alive.
    fs.rmSync(store.file, { recursive: true });
    const again = await manager.refresh();
    expect(manager.state).to.equal('authorized');
    expect((await introspect(sim.url, again.accessToken)).body.active).to.equal(true);
    expect(store.load()?.accessToken).to.equal(again.accessToken);
  });

  it('treats an unreadable token file as "authorize again" instead of failing the account', async () => {
    const store = new TokenStore(dir, 'acc');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(store.file, '{not json');
    const manager = new TokenManager({ clientId: 'c', clientSecret: 's', grant: 'authorization_code', authorizeUrl: `${sim.url}/a`, tokenUrl: `${sim.url}/t`, redirectUri: 'http://x/cb', requestScopes: [], store });
    expect(manager.state).to.equal('reauth-needed');
    expect(manager.reauthorizationReason).to.match(/could not be read/);
    const err = await manager.getAccessToken().catch((e: Error) => e);
    expect(err).to.be.instanceOf(ReauthorizationNeededError);
  });

  it('reports each refresh for the audit log, without the token', async () => {
    const events: string[] = [];
    const { manager } = await authorizedManager({ onRefresh: (outcome, detail) => events.push(`${outcome}: ${detail}`) });
    const fresh = await manager.refresh();
    expect(events).to.deep.equal(['ok: access token refreshed']);
    expect(events.join()).to.not.include(fresh.accessToken);
  });

  /** Another manager of an existing token file, as a redeployed account builds. */
  function managerOf(store: TokenStore, extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
    return new TokenManager({
      clientId: DEMO_CLIENT.clientId,
      clientSecret: DEMO_CLIENT.clientSecret,
      grant: 'authorization_code',
      authorizeUrl: `${sim.url}/oauth2/v2.0/authorize`,
      tokenUrl: `${sim.url}/oauth2/v2.0/token`,
      redirectUri: DEMO_CLIENT.redirectUri,
      requestScopes: ['read:status'],
      store,
      ...extra,
    });
  }

  describe('two managers of one token file (an account redeployed while its old self still follows a command)', () => {
    it('the one that refreshes second takes what the first stored instead of replaying the rotated refresh token', async () => {
      const { manager: old, store } = await authorizedManager();
      const fresh = managerOf(store);
      const rotated = await fresh.refresh();
      sim.world.counts.reset();
      const adopted = await old.refresh();
      expect(adopted.accessToken, 'the token the other manager got').to.equal(rotated.accessToken);
      expect(sim.world.counts.get('oauth.token.refresh_token'), 'no second token request').to.equal(0);
      expect(old.state).to.equal('authorized');
      expect((await introspect(sim.url, rotated.accessToken)).body.active, 'the grant is alive').to.equal(true);
    });

    it('refreshing at the same moment, they make one token request between them', async () => {
      const { manager: old, store } = await authorizedManager();
      const fresh = managerOf(store);
      sim.world.counts.reset();
      const [a, b] = await Promise.all([old.refresh(), fresh.refresh()]);
      expect(a.accessToken).to.equal(b.accessToken);
      expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(1);
      expect(sim.world.alerts.all().filter((alert) => alert.kind === 'refresh-token-reuse'), 'no replay alert').to.deep.equal([]);
    });
  });

  describe('a token file someone else changed', () => {
    it('a manager retired while it waits for its turn takes what the other stored, without a token request of its own', async () => {
      const { manager: old, store } = await authorizedManager();
      const live = managerOf(store);
      sim.world.counts.reset();
      const first = old.refresh();
      const waiting = live.refresh();
      // The owner authorizes again while the live manager waits: the account retires it.
      live.retire();
      expect((await waiting).refreshToken).to.equal((await first).refreshToken);
      expect(sim.world.counts.get('oauth.token.refresh_token'), 'only the old manager asked').to.equal(1);
    });

    it('a manager disconnected while it waits for its turn does not refresh after', async () => {
      const { manager: old, store } = await authorizedManager();
      const live = managerOf(store);
      const first = old.refresh();
      const waiting = live.refresh().then(
        () => 'refreshed',
        (e: Error) => e.name,
      );
      void live.disconnect();
      await first.catch(() => undefined);
      expect(await waiting).to.equal('ReauthorizationNeededError');
      expect(fs.existsSync(store.file), 'the file stays removed').to.equal(false);
    });

    it('a refresh does not overwrite a new authorization stored while it ran: it takes that one', async () => {
      const { manager, store } = await authorizedManager();
      const other = await connect(sim.url, { scopes: ['read:status', 'read:location'] });
      const running = manager.refresh();
      // The admin callback stores a new authorization (another grant) while the refresh is on the wire.
      store.save({ accessToken: other.access_token, refreshToken: other.refresh_token, tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + 1_000_000, grantedScopes: ['read:status', 'read:location'], authorizedAt: Date.now() });
      const result = await running;
      expect(result.refreshToken, 'the new authorization').to.equal(other.refresh_token);
      expect(store.load()?.refreshToken, 'still in the file').to.equal(other.refresh_token);
      expect(manager.grantedScopes).to.deep.equal(['read:status', 'read:location']);
    });

    it('after Disconnect by another manager (the file is gone), a refresh drops the tokens instead of writing them back', async () => {
      const { manager: old, store } = await authorizedManager();
      const live = managerOf(store);
      await live.disconnect();
      sim.world.counts.reset();
      const err = await old.refresh().catch((e: Error) => e);
      expect(err).to.be.instanceOf(ReauthorizationNeededError);
      expect(old.state).to.equal('unauthorized');
      expect(fs.existsSync(store.file), 'no token file written back').to.equal(false);
      expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(0);
    });

    it('adopts what another manager rotated even when its expiry is earlier (a shorter lifetime): the refresh token it holds is spent', async () => {
      const { manager: old, store } = await authorizedManager();
      const live = managerOf(store);
      const rotated = await live.refresh();
      store.save({ ...rotated, expiresAt: Date.now() + 5_000 });
      sim.world.counts.reset();
      const taken = await old.refresh();
      expect(taken.refreshToken).to.equal(rotated.refreshToken);
      expect(sim.world.counts.get('oauth.token.refresh_token'), 'no replay of the spent refresh token').to.equal(0);
      expect(sim.world.alerts.all().filter((a) => a.kind === 'refresh-token-reuse')).to.deep.equal([]);
    });

    it('rotated tokens that could not be saved reach a manager built for the file meanwhile (a redeploy): no replay of the spent refresh token', async () => {
      const { manager: old, store } = await authorizedManager({ onPersistError: () => undefined });
      // The token file's place is taken by a non-empty directory: rename fails, and reading fails too.
      fs.rmSync(store.file);
      fs.mkdirSync(path.join(store.file, 'blocker'), { recursive: true });
      const rotated = await old.refresh();
      const redeployed = managerOf(store, { onPersistError: () => undefined });
      expect(redeployed.state, 'authorized from the unsaved tokens, not "authorize again"').to.equal('authorized');
      expect(redeployed.currentTokens()?.refreshToken).to.equal(rotated.refreshToken);
      fs.rmSync(store.file, { recursive: true });
      const next = await redeployed.refresh();
      expect(store.load()?.refreshToken, 'saved once the file can be written').to.equal(next.refreshToken);
      // The old manager, still holding the rotated-away tokens, takes the saved ones and never writes its own back.
      sim.world.counts.reset();
      expect(await old.getAccessToken()).to.equal(next.accessToken);
      expect(old.currentTokens()?.refreshToken).to.equal(next.refreshToken);
      expect(store.load()?.refreshToken, 'the file keeps the newest').to.equal(next.refreshToken);
      expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(0);
      expect(sim.world.alerts.all().filter((a) => a.kind === 'refresh-token-reuse')).to.deep.equal([]);
    });

    it('an unsaved manager whose file was then removed by Disconnect elsewhere drops its tokens instead of writing them back', async () => {
      const { manager: old, store } = await authorizedManager({ onPersistError: () => undefined });
      fs.rmSync(store.file);
      fs.mkdirSync(path.join(store.file, 'blocker'), { recursive: true });
      await old.refresh();
      fs.rmSync(store.file, { recursive: true });
      // A manager built meanwhile (a redeploy) starts from the unsaved tokens, saves them, then disconnects.
      const live = managerOf(store);
      await live.refresh();
      await live.disconnect();
      expect(await old.getAccessToken().catch((e: Error) => e)).to.be.instanceOf(ReauthorizationNeededError);
      expect(old.state).to.equal('unauthorized');
      expect(fs.existsSync(store.file), 'nothing written back').to.equal(false);
    });

    it('a new authorization that could not be saved yet wins over the old grant: the old manager takes it, and saving the old grant never clobbers it', async () => {
      const { manager: old, store } = await authorizedManager();
      fs.rmSync(store.file);
      fs.mkdirSync(path.join(store.file, 'blocker'), { recursive: true });
      // The editor's Authorize: a manager of its own completes the new authorization; its save fails.
      const editor = managerOf(store, { onPersistError: () => undefined });
      const { code, verifier } = await authorize(sim.url, { scopes: ['read:status', 'read:location'] });
      const fresh = await editor.completeAuthorization(code as string, verifier);
      fs.rmSync(store.file, { recursive: true });
      sim.world.counts.reset();
      const taken = await old.refresh();
      expect(taken.refreshToken, 'the new authorization, not a refresh of the old grant').to.equal(fresh.refreshToken);
      expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(0);
      expect(managerOf(store).currentTokens()?.refreshToken, 'what the next manager starts from').to.equal(fresh.refreshToken);
    });

    it('a client-credentials refresh finishing after Disconnect does not bring the file back', async () => {
      const store = new TokenStore(dir, 'fleet');
      const fleet = (): TokenManager =>
        managerOf(store, { clientId: FLEET_CLIENT.clientId, clientSecret: FLEET_CLIENT.clientSecret, grant: 'client_credentials' });
      const old = fleet();
      await old.authorizeClientCredentials();
      const live = fleet();
      const running = old.refresh().catch((e: Error) => e);
      await live.disconnect();
      expect(await running).to.be.instanceOf(ReauthorizationNeededError);
      expect(fs.existsSync(store.file)).to.equal(false);
    });

    it('a token endpoint that never answers is a clear timeout after 15 s, and frees the turn for the next manager', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const store = new TokenStore(dir, 'silent');
        store.save({ accessToken: 'a', refreshToken: 'r', tokenType: 'Bearer', issuedAt: 0, expiresAt: 1, authorizedAt: 0 });
        const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
        const hanging = managerOf(store, { tokenUrl: `${url}/token`, authorizeUrl: `${url}/authorize` });
        const outcome = hanging.refresh().catch((e: Error) => e);
        await clock.tickAsync(15_000);
        const err = (await outcome) as OAuthError;
        expect(err).to.be.instanceOf(OAuthError);
        expect([err.code, err.message]).to.deep.equal(['timeout', 'the token endpoint did not answer within 15 s']);
      } finally {
        clock.restore();
        silent.closeAllConnections();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });
  });

  describe('the refresh margin', () => {
    async function managerAt(clock: { now: number }, lifetimeMs: number, issuedAt: number | undefined): Promise<TokenManager> {
      const { store } = await authorizedManager();
      const tokens = store.load();
      if (!tokens) throw new Error('no tokens');
      store.save({ ...tokens, issuedAt, expiresAt: clock.now + lifetimeMs });
      return managerOf(store, { now: () => clock.now });
    }

    for (const [label, lifetimeMs, usedForMs] of [
      ['a 2 s token is used for 1.8 s', 2_000, 1_800],
      ['a 120 s token is used for 108 s', 120_000, 108_000],
      ['a 20 min token is used for 19 min (the margin is at most 60 s)', 1_200_000, 1_140_000],
    ] as const) {
      it(`is a tenth of the lifetime, at most 60 s: ${label}`, async () => {
        const clock = { now: Date.now() };
        const manager = await managerAt(clock, lifetimeMs, clock.now);
        const first = await manager.getAccessToken();
        clock.now += usedForMs - 1;
        expect(await manager.getAccessToken(), 'still the first token').to.equal(first);
        expect(manager.refreshCount).to.equal(0);
        clock.now += 1;
        expect(await manager.getAccessToken(), 'refreshed').to.not.equal(first);
        expect(manager.refreshCount).to.equal(1);
      });
    }

    it('is the full 60 s for a token file from before lifetimes were kept', async () => {
      const clock = { now: Date.now() };
      const manager = await managerAt(clock, 90_000, undefined);
      const first = await manager.getAccessToken();
      clock.now += 30_000;
      expect(await manager.getAccessToken()).to.not.equal(first);
    });
  });
});
