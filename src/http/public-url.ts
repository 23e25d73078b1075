// The base URL of links in answers and webhook bodies. Never taken from an arbitrary client's Host header
// (any client could then point other users' links and webhooks elsewhere, and HTTP/1.0 without Host gave
// "http://undefined/"): --api-endpoint, else a Host the operator listed in --public-host, else the listening address.
import type { Request } from 'express';

export interface PublicUrlOptions {
  apiEndpoint?: string;
  /** --public-host values, lower-case: Host headers trusted for links. */
  publicHosts?: readonly string[];
  /** The address the server listens on, e.g. http://127.0.0.1:8080 (known once it listens). */
  listenUrl?: () => string;
}

export function publicBaseUrl(opts: PublicUrlOptions, req: Request): string {
  if (opts.apiEndpoint) return opts.apiEndpoint;
  const hosts = opts.publicHosts ?? [];
  const asked = (req.get('host') ?? '').trim().toLowerCase();
  if (asked && hosts.includes(asked)) return `${req.protocol}://${asked}`;
  if (hosts.length) return `http://${hosts[0]}`;
  return opts.listenUrl?.() ?? 'http://localhost';
}
