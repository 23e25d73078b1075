// Which addresses an outgoing webhook may reach. One guard for every dialect's callbacks:
// - at upload time, checkUrl() refuses what the URL alone shows to be bad (scheme, metadata names, literal IPs);
// - at delivery time, the agents' `lookup` hook checks every address a name resolves to, so that DNS
//   rebinding cannot reach what the URL check let through, and literal IPs are checked again by checkUrl().
// Redirects are never followed by the webhook client (src/tasks/webhook.ts), so they cannot get round it.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { WebhookTargetRefusedError } from '../errors.ts';

/**
 * Refused whatever the rules say: cloud metadata services, link-local, unspecified, multicast and broadcast
 * addresses. Loopback and private ranges are allowed (on-prem consumers live there) unless --webhook-allow
 * or --webhook-deny say otherwise.
 */
export const DEFAULT_DENIED_RANGES = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host
  '169.254.0.0/16', // link-local, AWS/GCP/Azure/OpenStack metadata at 169.254.169.254
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure wire server
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, 255.255.255.255 broadcast
  '::/128', // unspecified
  'fe80::/10', // link-local
  'fd00:ec2::254/128', // AWS metadata over IPv6
  'ff00::/8', // multicast
] as const;

/** Names of metadata services, refused even before they are resolved. */
export const DEFAULT_DENIED_HOSTS = ['metadata.google.internal', 'metadata', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.internal'] as const;

/** IPv6 prefixes that carry an IPv4 address in their last 32 bits (mapped, compatible, SIIT, NAT64). */
const EMBEDDING_PREFIXES: { bytes: number[]; length: number }[] = [
  { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], length: 12 }, // ::ffff:a.b.c.d
  { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], length: 12 }, // ::a.b.c.d (deprecated "compatible")
  { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], length: 12 }, // ::ffff:0:a.b.c.d (SIIT)
  { bytes: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], length: 12 }, // 64:ff9b::a.b.c.d (NAT64)
];

/** 16 bytes of an IPv6 address (any textual form Node accepts), or null. */
function ipv6Bytes(text: string): number[] | null {
  let s = text.toLowerCase();
  if (isIP(s) !== 6) return null;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    tail = dotted[1]!.split('.').map(Number);
    s = `${s.slice(0, dotted.index)}:0:0`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const words = (part: string | undefined) => (part ? part.split(':').filter(Boolean).map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = words(rest);
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((w) => [w >> 8, w & 255]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : null;
}

/** The IPv4 address embedded in an IPv6 one (see EMBEDDING_PREFIXES), or null. */
export function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  for (const p of EMBEDDING_PREFIXES) {
    if (p.bytes.every((v, i) => b[i] === v)) {
      // "::" and "::1" themselves are not IPv4 addresses
      if (p.bytes.every((v) => v === 0) && b[12] === 0 && b[13] === 0) return null;
      return b.slice(12).join('.');
    }
  }
  return null;
}

const normaliseHost = (host: string) => host.trim().toLowerCase().replace(/\.+$/, '').replace(/^\[(.*)\]$/, '$1');

interface Rule {
  ranges: BlockList;
  hosts: string[];
  hasRanges: boolean;
}

function parseRule(entries: readonly string[], flag: string): Rule {
  const ranges = new BlockList();
  const hosts: string[] = [];
  let hasRanges = false;
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr, bits, extra] = entry.split('/');
    const ip = normaliseHost(addr!);
    const family = isIP(ip);
    if (family) {
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && bits.trim() === '')) {
        throw new Error(`${flag}: "${entry}" is not a valid address range`);
      }
      ranges.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      hasRanges = true;
    } else if (bits === undefined && /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(normaliseHost(entry))) {
      hosts.push(normaliseHost(entry));
    } else {
      throw new Error(`${flag}: "${entry}" is neither an address range (10.0.0.0/8, fd00::/8, 192.0.2.7) nor a host name`);
    }
  }
  return { ranges, hosts, hasRanges };
}

function matchesHost(hosts: readonly string[], host: string): boolean {
  const h = normaliseHost(host);
  return hosts.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) : h === p));
}

function inRanges(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (!family) return false;
  if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  const v4 = family === 6 ? embeddedIpv4(address) : null;
  return v4 !== null && list.check(v4, 'ipv4');
}

export interface WebhookRules {
  /** --webhook-allow: when not empty, only these ranges and hosts. */
  allow?: readonly string[];
  /** --webhook-deny: refused in addition to DEFAULT_DENIED_RANGES / DEFAULT_DENIED_HOSTS. */
  deny?: readonly string[];
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

export class WebhookGuard {
  private readonly allow: Rule | null;
  private readonly deny: Rule;
  private cachedAgents?: { http: HttpAgent; https: HttpsAgent };

  constructor(rules: WebhookRules = {}) {
    const allow = (rules.allow ?? []).filter((s) => s.trim());
    this.allow = allow.length ? parseRule(allow, '--webhook-allow') : null;
    this.deny = parseRule([...DEFAULT_DENIED_RANGES, ...DEFAULT_DENIED_HOSTS, ...(rules.deny ?? [])], '--webhook-deny');
  }

  /** Why a connection to `address` (reached through the name `hostname`) is refused, or null when it is allowed. */
  reasonForAddress(address: string, hostname?: string): string | null {
    if (inRanges(this.deny.ranges, address)) return `the address ${address} is a link-local, metadata, unspecified or denied address`;
    if (this.allow) {
      const byHost = hostname !== undefined && matchesHost(this.allow.hosts, hostname);
      if (!byHost && !inRanges(this.allow.ranges, address)) return `the address ${address} is not in --webhook-allow`;
    }
    return null;
  }

  /** Throws WebhookTargetRefusedError (400) when the URL alone shows that the target is refused. */
  checkUrl(url: string): URL {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new WebhookTargetRefusedError('must be an absolute http(s) URL, URL-encoded');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new WebhookTargetRefusedError('must be an absolute http(s) URL, URL-encoded');
    const host = normaliseHost(u.hostname);
    if (!host) throw new WebhookTargetRefusedError('the URL has no host');
    if (isIP(host)) {
      const reason = this.reasonForAddress(host, undefined);
      if (reason) throw new WebhookTargetRefusedError(`target refused: ${reason}`);
      return u;
    }
    if (matchesHost(this.deny.hosts, host)) throw new WebhookTargetRefusedError(`target refused: ${host} is a metadata service or a denied host`);
    // A name that is not on the allow list may still resolve into an allowed range; with no ranges listed it cannot.
    if (this.allow && !matchesHost(this.allow.hosts, host) && !this.allow.hasRanges) {
      throw new WebhookTargetRefusedError(`target refused: ${host} is not in --webhook-allow`);
    }
    return u;
  }

  /** A dns.lookup replacement for http(s) agents: resolves, then keeps only the allowed addresses. */
  readonly lookup = (hostname: string, options: { all?: boolean; family?: number | string } | number, callback: LookupCallback): void => {
    const opts = typeof options === 'number' ? { family: options } : { ...options };
    dnsLookup(hostname, { family: opts.family as 0 | 4 | 6 | undefined, all: true }, (err, addresses) => {
      if (err) return callback(err);
      let reason = 'no address';
      const allowed = addresses.filter((a) => {
        const r = this.reasonForAddress(a.address, hostname);
        if (r) reason = r;
        return r === null;
      });
      if (allowed.length === 0) {
        const refused: NodeJS.ErrnoException = new Error(`webhook target ${hostname} refused: ${reason}`);
        refused.code = 'EWEBHOOKREFUSED';
        return callback(refused);
      }
      if (opts.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };

  /** Agents whose every connection goes through `lookup` (one pair per guard, with keep-alive off). */
  agents(): { http: HttpAgent; https: HttpsAgent } {
    this.cachedAgents ??= {
      http: new HttpAgent({ lookup: this.lookup as never }),
      https: new HttpsAgent({ lookup: this.lookup as never }),
    };
    return this.cachedAgents;
  }
}

/**
 * Headers a client may not set on its own webhook call: framing and hop-by-hop headers (they let a body be
 * cut short or a second request be smuggled to the receiver) and `host`.
 */
export const FORBIDDEN_WEBHOOK_HEADERS = ['content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'host', 'content-type'] as const;

/** Why `name` cannot be the webhook's auth header, or null when it can. For every dialect's callback options. */
export function webhookHeaderNameProblem(name: string): string | null {
  const n = name.trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n)) return 'must be a valid HTTP header name';
  if ((FORBIDDEN_WEBHOOK_HEADERS as readonly string[]).includes(n) || n.startsWith('proxy-')) {
    return `${n} is a framing, hop-by-hop or host header and cannot be set (use e.g. authorization or x-api-key)`;
  }
  return null;
}
