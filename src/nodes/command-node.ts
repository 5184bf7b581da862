import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { ApiError } from '../lib/api/errors';
import { commandRunner, COMMAND_SPECS, CommandOutcomeUnknownError, CommandRefusedError, stateAfterCommand, type CommandAction, type CommandResult, type CommandVehicleState } from '../lib/commands';
import { Confirmations, confirmationRefusal } from '../lib/confirmations';
import type { FordAccount } from '../lib/account';
import type { AuthState } from '../lib/oauth/token-manager';
import { vehicleHubs } from '../lib/vehicle-hub';
import { accountStateStatus, clockTime, errorText, findAccount, outcomeOf, safeError, sendAudit, vehicleIdFor, vehicleTopic, type Send, type VehicleNodeBase } from './vehicle-node';

/**
 * What ford-lock, ford-remote-start and ford-horn-lights share: the action
 * from the node or from msg.payload, refusals before any request, the
 * owner's confirmation for sensitive actions, the command runner, and one
 * result on output 1 with every step on output 2.
 */

export interface CommandNodeDef extends NodeDef {
  account: string;
  vehicleId: string;
  action?: string;
  confirm?: boolean;
  confirmWindow?: number | string;
  timeout?: number | string;
  cooldown?: number | string;
}

export interface CommandNodeSpec {
  type: string;
  /** `msg.payload` words (and configured `action` values) and the action each means. */
  actions: Readonly<Record<string, CommandAction>>;
  /** The action of a node without an action choice (horn and lights). */
  fixed?: CommandAction;
  /** Status text after a result, and a follow-up (remote start counts its minutes down). */
  onResult?: (ctx: ResultContext) => void;
  /** What a node type adds to the shared behaviour (ford-charge: schedules, vehicle check, charging status). */
  extend?: (ctx: ExtensionContext) => CommandNodeExtension;
}

export interface ExtensionContext {
  node: Node;
  base: VehicleNodeBase;
  config: CommandNodeDef;
  setStatus(status: NodeStatus): void;
  /** True while a command of this node runs or waits for a confirmation, or the node cannot act: its status is not the extension's to set. */
  busy(): boolean;
}

export interface CommandNodeExtension {
  /** Takes a message that is not a command (e.g. ford-charge's `msg.topic = "schedules"`); true when it did. */
  input?(msg: NodeMessageInFlow & { vehicleId?: unknown }, send: Send, done: (err?: Error) => void): boolean;
  /** A last check before the command is sent: throw (a CommandRefusedError) to refuse it. */
  beforeSend?(account: FordAccount, vehicleId: string, action: CommandAction): Promise<void>;
  /** Called with the account's state whenever it changes (after the node's own status). */
  onAccountState?(state: AuthState): void;
  close?(): void;
}

export interface ResultContext {
  node: Node;
  result: CommandResult;
  state?: CommandVehicleState;
  /** Sets the node status until the next command or close. */
  setStatus(status: NodeStatus): void;
  /** A repeating status update, cleared by the next command or close. */
  every(ms: number, tick: () => boolean): void;
}

interface Parked {
  action: CommandAction;
  vehicleId: string;
  /** The message that asked: if it comes back as its own confirmation, the flow is looping, not the owner answering. */
  msgid?: string;
}

const DEFAULT_CONFIRM_WINDOW_SECONDS = 120;

type CommandMsg = NodeMessageInFlow & { vehicleId?: unknown; confirm?: unknown };

const PRESENT: Record<CommandAction, string> = {
  lock: 'locking',
  unlock: 'unlocking',
  'remote-start': 'starting',
  'remote-stop': 'stopping',
  'horn-lights': 'signalling',
  'charge.start': 'starting to charge',
  'charge.stop': 'stopping charging',
};

function seconds(value: unknown, fallback: number | undefined): number | undefined {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The result on output 1: the asking message, with the outcome as payload. */
function resultMessage(msg: NodeMessageInFlow, vehicleId: string, payload: Record<string, unknown>): NodeMessageInFlow {
  const out = { ...msg, topic: vehicleTopic(undefined, vehicleId, payload.action as CommandAction), vehicleId, payload } as NodeMessageInFlow & { confirm?: unknown };
  // The id is spent: a result must not look like a confirmation to the next node.
  delete out.confirm;
  return out;
}

export function registerCommandNode(RED: NodeAPI, spec: CommandNodeSpec): void {
  function CommandNode(this: Node, config: CommandNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const base: VehicleNodeBase = { node, nodeType: spec.type, account: findAccount(RED, config.account), configuredVehicleId: config.vehicleId ?? '' };
    const fromMsg = !spec.fixed && config.action === 'msg';
    const configured: CommandAction | undefined = spec.fixed ?? (fromMsg ? undefined : spec.actions[config.action ?? '']);
    // An imported flow with an action this node does not know must not quietly become "from msg".
    const badAction = !spec.fixed && !fromMsg && !configured ? `unknown action ${JSON.stringify(String(config.action ?? '')).slice(0, 30)}: choose ${Object.keys(spec.actions).join(', ')} or msg` : undefined;
    const confirmSensitive = config.confirm !== false;
    const confirmWindow = seconds(config.confirmWindow, DEFAULT_CONFIRM_WINDOW_SECONDS) || DEFAULT_CONFIRM_WINDOW_SECONDS;
    const timeout = seconds(config.timeout, 60) || 60;
    const cooldown = seconds(config.cooldown, undefined);
    const confirmations = new Confirmations<Parked>();
    // The action a refused confirmation is audited under: the one this node confirms.
    const confirmable = Object.values(spec.actions).find((a) => COMMAND_SPECS[a].sensitive) ?? configured ?? Object.values(spec.actions)[0];
    // Only a node that can ask for a confirmation takes msg.confirm as one.
    const asksConfirmation = confirmSensitive && (configured ? [configured] : Object.values(spec.actions)).some((a) => COMMAND_SPECS[a].sensitive);
    let running = 0;
    const extension =
      spec.extend?.({
        node,
        base,
        config,
        setStatus: (status) => setStatus(status),
        busy: () => {
          const account = base.account?.account;
          return running > 0 || waitingTimer !== undefined || !account || Object.values(spec.actions).some((a) => commandRunner.refusal(account, a) !== undefined);
        },
      }) ?? {};
    let ticker: NodeJS.Timeout | undefined;
    let waitingTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const stopTicker = (): void => {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      if (waitingTimer) clearTimeout(waitingTimer);
      waitingTimer = undefined;
    };
    const setStatus = (status: NodeStatus): void => {
      if (!closed) node.status(status);
    };

    const refusalStatus = (refused: ApiError): NodeStatus => ({
      fill: 'red',
      shape: 'ring',
      text: refused.kind === 'scope' && refused.scope ? `${refused.scope} not granted` : refused.kind === 'forbidden' && !refused.httpStatus ? 'no remote commands on this API' : errorText(refused).slice(0, 60),
    });

    const idleStatus = (state: AuthState): void => {
      const account = base.account?.account;
      if (!account) return;
      if (badAction) return setStatus({ fill: 'red', shape: 'ring', text: 'unknown action: open the node and choose one' });
      const stateStatus = accountStateStatus(state);
      if (stateStatus) return setStatus(stateStatus);
      const actions = configured ? [configured] : [...new Set(Object.values(spec.actions))];
      const refused = actions.map((a) => commandRunner.refusal(account, a)).find(Boolean);
      setStatus(refused ? refusalStatus(refused) : { fill: 'grey', shape: 'dot', text: 'ready' });
    };

    /** Picks the action of a message; anything but an accepted word is an error, never a guess. */
    const actionOf = (msg: CommandMsg): CommandAction => {
      if (configured) return configured;
      const word = msg.payload;
      if (typeof word === 'string' && Object.hasOwn(spec.actions, word)) return spec.actions[word];
      const accepted = Object.keys(spec.actions).map((w) => `"${w}"`).join(' or ');
      const got = typeof word === 'string' ? `"${word.length > 20 ? `${word.slice(0, 20)}…` : word}"` : word === null ? 'null' : `a ${typeof word}`;
      throw new ApiError('bad-request', `msg.payload must be ${accepted}; got ${got}`);
    };

    const refuse = (err: unknown, send: Send, done: (err?: Error) => void, action: CommandAction, vehicleId: string | undefined, msg?: CommandMsg): void => {
      const text = errorText(err);
      const kind = err instanceof ApiError ? err.kind : undefined;
      if (kind === 'step-up') setStatus({ fill: 'red', shape: 'ring', text: 'owner verification needed' });
      else if (kind === 'rate-limited') setStatus({ fill: 'yellow', shape: 'ring', text: err instanceof CommandRefusedError ? 'cooldown' : 'rate limited' });
      else if (kind === 'reauth' && base.account?.account) setStatus(accountStateStatus(base.account.account.state) ?? { fill: 'red', shape: 'ring', text: 're-authorization needed' });
      else if (err instanceof CommandRefusedError) setStatus(refusalStatus(err));
      else if (err instanceof CommandOutcomeUnknownError) setStatus({ fill: 'yellow', shape: 'ring', text: `${action}: may have reached the car` });
      else setStatus({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      if (kind === 'step-up' && base.account?.account) base.account.account.stepUpRequested = true;
      const detail =
        kind === 'step-up'
          ? `${text}: re-authorize the ford-account (press Authorize) so the owner signs in afresh, then send the command again`
          : kind === 'not-acceptable' && err instanceof ApiError && err.httpStatus === 406
            ? `${text}: the vehicle does not support ${action}`
            : text;
      // No answer is not a refusal: like a timeout, the vehicle may act.
      const outcome = err instanceof CommandOutcomeUnknownError ? 'timeout' : outcomeOf(err);
      sendAudit(base, send, { vehicleId, action, scope: COMMAND_SPECS[action].scope, outcome, detail, httpStatus: err instanceof ApiError ? err.httpStatus : undefined });
      // A flow that branches on payload.status hears of it as of any timeout (there is no command id to give).
      if (err instanceof CommandOutcomeUnknownError && msg && vehicleId) send([resultMessage(msg, vehicleId, { action, vehicle: vehicleId, status: 'timeout', reason: detail }), null]);
      done(safeError(new Error(`${spec.type}: ${detail}`)));
    };

    const execute = (account: FordAccount, parked: Parked, msg: CommandMsg, send: Send, done: (err?: Error) => void, confirmed: boolean): void => {
      const { action, vehicleId } = parked;
      stopTicker();
      setStatus({ fill: 'blue', shape: 'dot', text: `${PRESENT[action]}…` });
      running++;
      Promise.resolve(extension.beforeSend?.(account, vehicleId, action))
        .then(() => commandRunner.run({ account, vehicleId, action, timeoutSeconds: timeout, cooldownSeconds: cooldown }))
        .then(
        async (result) => {
          const outcome = result.status === 'success' ? 'ok' : result.status === 'timeout' ? 'timeout' : 'failed';
          const detail = [result.status === 'success' ? 'the vehicle carried it out' : result.reason, confirmed ? 'confirmed by the owner' : undefined, result.coalesced ? 'joined an identical command already under way' : undefined].filter(Boolean).join('; ');
          sendAudit(base, send, { vehicleId, action, scope: COMMAND_SPECS[action].scope, outcome, detail, commandId: result.commandId, durationMs: result.durationMs });
          let state: CommandVehicleState | undefined;
          if (result.status === 'success' && account.can('read:status')) {
            // Reading the status is a data access of its own: it gets its own record.
            state = await vehicleHubs.read(account, vehicleId, 'status', 0).then(
              (r) => {
                sendAudit(base, send, { vehicleId, action: 'status.read', scope: 'read:status', outcome: 'ok', detail: `state after ${action}` });
                return stateAfterCommand(r.status);
              },
              (err: unknown) => {
                sendAudit(base, send, { vehicleId, action: 'status.read', scope: 'read:status', outcome: outcomeOf(err), detail: `state after ${action}: ${errorText(err)}`, httpStatus: err instanceof ApiError ? err.httpStatus : undefined });
                return undefined;
              },
            );
          }
          const payload = { action, vehicle: vehicleId, status: result.status, commandId: result.commandId, durationMs: result.durationMs, ...(result.reason ? { reason: result.reason } : {}), ...(state ?? {}) };
          send([resultMessage(msg, vehicleId, payload), null]);
          if (result.status === 'success') {
            setStatus({ fill: 'green', shape: 'dot', text: `${action} done ${clockTime(Date.now())}` });
            spec.onResult?.({ node, result, state, setStatus, every: (ms, tick) => {
              stopTicker();
              ticker = setInterval(() => {
                if (!tick()) stopTicker();
              }, ms);
            } });
            done();
          } else {
            setStatus({ fill: result.status === 'timeout' ? 'yellow' : 'red', shape: 'ring', text: `${action} ${result.status}${result.reason ? `: ${errorText(result.reason)}` : ''}`.slice(0, 60) });
            done(safeError(new Error(`${spec.type}: ${action} ${result.status === 'timeout' ? 'timed out' : 'failed'}: ${result.reason ?? ''}`)));
          }
        },
        (err: unknown) => refuse(err, send, done, action, vehicleId, msg),
      )
        .catch((err: unknown) => {
          // A bug here must reach the log, not vanish as an unhandled rejection.
          node.error(`${spec.type}: ${errorText(err)}`);
        })
        .finally(() => running--);
    };

    node.on('input', (msg: CommandMsg, nodeSend: unknown, done: (err?: Error) => void) => {
      const send = nodeSend as Send;
      const account = base.account?.account;
      if (!account) {
        setStatus({ fill: 'red', shape: 'ring', text: 'no ford-account configured' });
        done(new Error(`${spec.type}: no ford-account is configured`));
        return;
      }
      if (extension.input?.(msg, send, done)) return;
      if (badAction) {
        setStatus({ fill: 'red', shape: 'ring', text: 'unknown action: open the node and choose one' });
        done(new Error(`${spec.type}: ${badAction}`));
        return;
      }
      // A confirmation runs what was parked, never what the confirming message asks for.
      if (asksConfirmation && msg.confirm !== undefined) {
        const answer = confirmations.take(msg.confirm);
        if (!answer.ok) {
          refuse(new ApiError('forbidden', `confirmation refused: ${confirmationRefusal(answer.reason)}`), send, done, confirmable, undefined);
          return;
        }
        if (answer.request.msgid !== undefined && answer.request.msgid === msg._msgid) {
          refuse(new ApiError('forbidden', 'confirmation refused: it is the pending message itself, wired back to this node; the owner must answer with a new message'), send, done, answer.request.action, answer.request.vehicleId);
          return;
        }
        execute(account, answer.request, msg, send, done, true);
        return;
      }
      let action: CommandAction;
      let vehicleId: string;
      try {
        action = actionOf(msg);
      } catch (err) {
        refuse(err, send, done, configured ?? confirmable, undefined);
        return;
      }
      try {
        vehicleId = vehicleIdFor(msg, base.configuredVehicleId);
      } catch (err) {
        refuse(err, send, done, action, undefined);
        return;
      }
      // Refused before the owner is asked to confirm something that could not run anyway.
      const refused = commandRunner.refusal(account, action, vehicleId, cooldown);
      if (refused) {
        refuse(refused, send, done, action, vehicleId);
        return;
      }
      if (confirmSensitive && COMMAND_SPECS[action].sensitive) {
        const pending = confirmations.issue({ action, vehicleId, msgid: msg._msgid }, confirmWindow);
        const confirm = { id: pending.id, expiresAt: new Date(pending.expiresAt).toISOString() };
        sendAudit(base, send, { vehicleId, action, scope: COMMAND_SPECS[action].scope, outcome: 'pending-confirmation', detail: `waiting for the owner's confirmation until ${confirm.expiresAt}` });
        send([{ ...msg, topic: vehicleTopic(undefined, vehicleId, action), vehicleId, confirm, payload: { action, vehicle: vehicleId, status: 'pending-confirmation', expiresAt: confirm.expiresAt } } as NodeMessageInFlow, null]);
        stopTicker();
        setStatus({ fill: 'yellow', shape: 'ring', text: `${action}: confirm by ${clockTime(pending.expiresAt)}` });
        waitingTimer = setTimeout(() => {
          waitingTimer = undefined;
          setStatus({ fill: 'grey', shape: 'ring', text: `${action} not confirmed in time` });
          // The end of a step is a step too: the owner's log shows the unlock that never happened.
          sendAudit(base, undefined, { vehicleId, action, scope: COMMAND_SPECS[action].scope, outcome: 'timeout', detail: `not confirmed within ${confirmWindow} s: nothing was sent` });
        }, pending.expiresAt - Date.now());
        done();
        return;
      }
      execute(account, { action, vehicleId }, msg, send, done, false);
    });

    const dependent = {
      onAccountState: (state: AuthState) => {
        idleStatus(state);
        extension.onAccountState?.(state);
      },
    };
    if (!base.account) setStatus({ fill: 'red', shape: 'ring', text: 'no ford-account configured' });
    else base.account.register(dependent);

    node.on('close', (done: () => void) => {
      closed = true;
      stopTicker();
      confirmations.clear();
      extension.close?.();
      base.account?.deregister(dependent);
      node.status({});
      done();
    });
  }

  RED.nodes.registerType(spec.type, CommandNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
}
