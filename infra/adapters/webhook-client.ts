import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressLiteral, requirePublicAddresses, TargetRefused } from '../../domain/webhooks/target-policy';

export interface WebhookClientSettings {
  /** Allow loopback, private and link-local targets (development and tests). */
  allowPrivateNetworks: boolean;
  requestTimeoutMs?: number;
}

/**
 * The platform's HTTP requests to webhook receivers. Unless private networks are allowed, the address a request
 * connects to is checked at connection time (not only at registration), so a name re-pointed at an internal address
 * after registration (DNS rebinding) is refused too. Redirects are never followed, for the same reason.
 */
export class WebhookClient {
  private readonly timeoutMs: number;

  constructor(private readonly settings: WebhookClientSettings) {
    this.timeoutMs = settings.requestTimeoutMs ?? 10_000;
  }

  /** Throws TargetRefused if the URL's host is, or resolves to, an address that is not public. */
  async checkTarget(url: string): Promise<void> {
    if (this.settings.allowPrivateNetworks) return;
    const target = new URL(url);
    const literal = addressLiteral(target);
    if (literal) return requirePublicAddresses(literal, [literal]);
    let addresses: dns.LookupAddress[];
    try {
      addresses = await dns.promises.lookup(target.hostname, { all: true });
    } catch (err) {
      throw new TargetRefused(`${target.hostname} does not resolve (${(err as NodeJS.ErrnoException).code})`);
    }
    requirePublicAddresses(
      target.hostname,
      addresses.map((a) => a.address),
    );
  }

  /** POSTs the body; resolves with the status code, rejects on network errors, timeouts and refused targets. */
  async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    const target = new URL(url);
    const literal = addressLiteral(target);
    if (literal && !this.settings.allowPrivateNetworks) requirePublicAddresses(literal, [literal]);
    const signal = AbortSignal.timeout(this.timeoutMs);
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal,
          agent: false,
          ...(this.settings.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
        },
        (res) => {
          // Only the status matters; the receiver's body is drained, never kept.
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        },
      );
      req.on('error', (err) =>
        reject(signal.aborted ? new Error(`no answer within ${this.timeoutMs / 1000} s`) : err),
      );
      req.end(body);
    });
  }
}

/** dns.lookup that fails with TargetRefused when any address of the name is not public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    try {
      requirePublicAddresses(
        hostname,
        addresses.map((a) => a.address),
      );
    } catch (refused) {
      return callback(refused as NodeJS.ErrnoException, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    return callback(null, first.address, first.family);
  });
};
