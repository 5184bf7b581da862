import type { NodeAPI } from 'node-red';
import { FordAccount } from '../lib/account';
import { accountConfig, accountEnvironment, type AccountDependent, type FordAccountDef, type FordAccountNode } from './account-node';
import { registerAccountAdmin } from './ford-account-admin';

export = function register(RED: NodeAPI): void {
  function FordAccountConstructor(this: FordAccountNode, def: FordAccountDef): void {
    RED.nodes.createNode(this, def);
    const dependents = new Set<AccountDependent>();
    this.register = (d) => {
      dependents.add(d);
      if (this.account) d.onAccountState(this.account.state);
    };
    this.deregister = (d) => {
      dependents.delete(d);
    };

    try {
      const env = accountEnvironment(RED);
      const config = accountConfig(this.id, def, this.credentials ?? {});
      if (config.preset === 'simulator' && config.apiUrl) env.simulatorUrl = config.apiUrl;
      const account = new FordAccount(config, env);
      this.account = account;
      account.on('state', (state: FordAccount['state']) => {
        if (state === 'reauth-needed') this.warn(RED._('ford-account.errors.reauth-needed'));
        for (const d of dependents) d.onAccountState(state);
      });
      account.on('warning', (text: string) => this.warn(text));
    } catch (err) {
      this.configError = (err as Error).message;
      this.error(RED._('ford-account.errors.config', { error: this.configError }));
    }

    this.on('close', (done: () => void) => {
      dependents.clear();
      const flushing = this.account?.flushAudit() ?? Promise.resolve();
      this.account?.removeAllListeners();
      flushing.then(done, done);
    });
  }

  RED.nodes.registerType('ford-account', FordAccountConstructor as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: { clientId: { type: 'text' }, clientSecret: { type: 'password' } },
  });
  registerAccountAdmin(RED);
};
