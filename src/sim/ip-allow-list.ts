import { BlockList, isIP } from 'node:net';

/** The owner's per-app IP allow-list: addresses and CIDR ranges, IPv4 and IPv6. */

export type AllowListParse = { ok: true; entries: string[] } | { ok: false; error: string };

/** Parses what the owner typed (comma, space or newline separated). */
export function parseAllowList(text: string): AllowListParse {
  const entries = text
    .split(/[\s,]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!isValidEntry(entry)) return { ok: false, error: `"${entry}" is not an IP address or CIDR range` };
  }
  return { ok: true, entries: [...new Set(entries)] };
}

function isValidEntry(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** IPv4 callers often arrive as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** An empty list allows every address. */
export function isAllowed(entries: readonly string[], ip: string | undefined): boolean {
  if (entries.length === 0) return true;
  if (!ip) return false;
  const caller = normaliseIp(ip);
  const family = isIP(caller);
  if (!family) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list.check(caller, family === 4 ? 'ipv4' : 'ipv6');
}
