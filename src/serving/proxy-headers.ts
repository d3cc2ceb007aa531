import type { IncomingMessage } from 'node:http';

/** Headers about one connection rather than the message (RFC 9110 7.6.1): each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/**
 * Request headers the proxy sets itself (the upstream's Host, the forwarding headers), answers itself (Expect: the
 * caller already got its 100 Continue) or keeps from the model (the caller's credential for the appliance).
 */
const REPLACED_ON_REQUEST = new Set(['host', 'expect', 'authorization']);
/** Said by the caller; believed only from a proxy in front of the appliance that the admin trusts. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** Methods whose requests Node sends without a length or chunks when they have no body. */
const UNFRAMED_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/** Whether the caller sends a body (RFC 9112 6.3): one with a length above zero, or chunks. */
export function hasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The header names a Connection header lists, which are hop-by-hop as well. */
function connectionListed(connection: string | undefined): Set<string> | undefined {
  if (!connection) return undefined;
  return new Set(connection.split(',').map((name) => name.trim().toLowerCase()));
}

/** A Cookie header without the appliance's own cookies; undefined when none is left. */
function withoutCookies(header: string, hidden: ReadonlySet<string>): string | undefined {
  const kept = header.split(';').filter((pair) => !hidden.has(pair.slice(0, pair.indexOf('=')).trim()));
  return kept.length > 0 ? kept.join(';').trim() : undefined;
}

export interface ForwardingPolicy {
  /** Believe the caller's X-Forwarded-* and Forwarded headers (a trusted proxy sits in front) and extend them. */
  trustProxy: boolean;
  /** Cookies of the appliance itself (its session), which a model never sees. */
  hiddenCookies: ReadonlySet<string>;
}

/** The caller's headers as the upstream gets them, in rawHeaders' flat [name, value, ...] form. */
export function upstreamRequestHeaders(incoming: IncomingMessage, upstreamHost: string, policy: ForwardingPolicy): string[] {
  const raw = incoming.rawHeaders;
  const listed = connectionListed(incoming.headers.connection);
  const headers = ['Host', upstreamHost];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REPLACED_ON_REQUEST.has(lower) || listed?.has(lower)) continue;
    if (FORWARDING.has(lower)) {
      if (lower === 'forwarded' && policy.trustProxy) headers.push(name, raw[index + 1]!);
      continue;
    }
    const value = lower === 'cookie' ? withoutCookies(raw[index + 1]!, policy.hiddenCookies) : raw[index + 1]!;
    if (value !== undefined) headers.push(name, value);
  }
  if (incoming.headers['content-length'] === undefined) {
    // A body keeps its framing whatever the method; an empty one is said to be empty, as not every server reads chunks.
    if (incoming.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
    else if (!UNFRAMED_METHODS.has(incoming.method ?? '')) headers.push('Content-Length', '0');
  }

  const trusted = policy.trustProxy ? incoming.headers : {};
  const address = incoming.socket.remoteAddress ?? '';
  const encrypted = (incoming.socket as { encrypted?: boolean }).encrypted === true;
  headers.push('X-Forwarded-For', trusted['x-forwarded-for'] ? `${trusted['x-forwarded-for']}, ${address}` : address);
  headers.push('X-Forwarded-Proto', firstOf(trusted['x-forwarded-proto']) ?? (encrypted ? 'https' : 'http'));
  const host = firstOf(trusted['x-forwarded-host']) ?? incoming.headers.host;
  if (host) headers.push('X-Forwarded-Host', host);
  return headers;
}

const firstOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The upstream's response headers as the caller gets them: its own framing and connection headers left out. */
export function callerResponseHeaders(upstream: IncomingMessage): string[] {
  const raw = upstream.rawHeaders;
  const listed = connectionListed(upstream.headers.connection);
  const headers: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const lower = raw[index]!.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !listed?.has(lower)) headers.push(raw[index]!, raw[index + 1]!);
  }
  return headers;
}
