// The client address (rate limits, audit log, sessions): the TCP peer, unless the peer is a
// configured proxy (PRAXISKERN_TRUSTED_PROXIES). Then X-Forwarded-For is read from the right,
// skipping trusted proxies, and the first untrusted address is the client. A header sent by an
// untrusted peer is ignored, so nobody on the network can pick the address they are counted as.
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';

/** "::ffff:10.0.0.1" (IPv4 on a dual-stack socket) is the IPv4 address 10.0.0.1. */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const a = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1] : a;
}

export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: BlockList): string | undefined {
  let client = normalizeAddress(peer);
  if (!client || !isTrusted(trusted, client) || !forwardedFor) return client;
  const hops = forwardedFor.split(',').map(normalizeAddress).filter((a): a is string => Boolean(a));
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) break;
    client = hops[i];
    if (!isTrusted(trusted, client)) break;
  }
  return client;
}

export function clientAddressMiddleware(trustedProxies: readonly string[]) {
  const trusted = trustedProxyList(trustedProxies);
  return async function clientAddressFromTrustedProxy(ctx: Context, next: Next) {
    ctx.request.ip = clientAddress(ctx.req.socket.remoteAddress, ctx.get('x-forwarded-for') || undefined, trusted) ?? '';
    await next();
  };
}
