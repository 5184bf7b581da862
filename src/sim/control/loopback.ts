import { isIP } from 'node:net';

/** What the control API looks at to decide who may drive the simulator. */
export interface ControlCaller {
  /** `req.socket.remoteAddress`: the peer actually connected. */
  socketAddress: string | undefined;
  /** `req.ip`: differs from the socket only behind a proxy trusted with --trust-proxy. */
  ip?: string | undefined;
  host?: string | undefined;
  origin?: string | undefined;
  secFetchSite?: string | undefined;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.split('.')[0] === '127';
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** Host names a loopback caller uses; anything else hints at DNS rebinding. */
function isLoopbackHost(hostHeader: string): boolean {
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.split(':').length === 2) host = host.split(':')[0];
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackHost(new URL(origin).host);
  } catch {
    return false;
  }
}

/**
 * Why a caller may not use /sim, or undefined when it may. Loopback only,
 * and not a web page reaching loopback through the owner's browser
 * (cross-site requests or a rebound DNS name), since /sim can revoke grants
 * and expire tokens.
 */
export function controlRefusal(caller: ControlCaller): string | undefined {
  if (!isLoopbackAddress(caller.socketAddress)) return 'the control API answers loopback callers only';
  if (caller.ip !== undefined && !isLoopbackAddress(caller.ip)) return 'the control API answers loopback callers only';
  if (caller.host !== undefined && !isLoopbackHost(caller.host)) return 'the control API answers requests addressed to a loopback host only';
  if (caller.origin !== undefined && caller.origin !== '' && !isLoopbackOrigin(caller.origin)) return 'cross-site requests to the control API are refused';
  if (caller.secFetchSite === 'cross-site') return 'cross-site requests to the control API are refused';
  return undefined;
}
