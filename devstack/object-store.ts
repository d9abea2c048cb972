import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { canConnect, freePort } from './ports';
import { spawnService, waitUntilReady } from './process';
import { toolPath } from './tools';

export interface StartVersitygwOptions {
  /** Holds `root/` (one directory per bucket) and `versitygw.log`. */
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  accessKey: string;
  secretKey: string;
  /** Created (as directories) before the gateway starts. */
  buckets: string[];
  /**
   * Bucket notifications are POSTed here. versitygw POSTs a test event at startup and refuses to start if
   * that fails, so the webhook must already be listening.
   */
  eventWebhookUrl?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Extra global versitygw flags (before the `posix` subcommand). */
  extraArgs?: string[];
  /** Extra flags of the `posix` backend (e.g. `--sidecar DIR` on filesystems without xattrs). */
  posixArgs?: string[];
  /** Default 30 s. */
  startTimeoutMs?: number;
}

export interface VersitygwHandle {
  /** `http://127.0.0.1:PORT` (use path-style addressing: `forcePathStyle: true`). */
  endpoint: string;
  port: number;
  region: string;
  /** Directory whose subdirectories are the buckets. */
  rootDir: string;
  logFile: string;
  stop(): Promise<void>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function sha256Hex(data: string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function hmac(key: crypto.BinaryLike, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest();
}

/** Minimal AWS SigV4-signed request without a body; resolves with the HTTP status code. */
function signedStatus(
  method: 'GET' | 'HEAD',
  port: number,
  uriPath: string,
  creds: { accessKey: string; secretKey: string; region: string },
): Promise<number> {
  const host = `127.0.0.1:${port}`;
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const dateStamp = amzDate.slice(0, 8);
  const payloadHash = sha256Hex('');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonicalRequest = [
    method,
    uriPath,
    '',
    `host:${host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n`,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${dateStamp}/${creds.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${creds.secretKey}`, dateStamp);
  for (const part of [creds.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');

  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: uriPath,
        timeout: 5000,
        headers: {
          host,
          'x-amz-date': amzDate,
          'x-amz-content-sha256': payloadHash,
          authorization:
            `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${scope}, ` +
            `SignedHeaders=${signedHeaders}, Signature=${signature}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${uriPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts versitygw (S3 gateway) with the posix backend on 127.0.0.1 and waits until every bucket answers
 * a signed HeadBucket with 200.
 */
export async function startVersitygw(opts: StartVersitygwOptions): Promise<VersitygwHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const rootDir = path.join(dataDir, 'root');
  const logFile = path.join(dataDir, 'versitygw.log');
  const region = opts.region ?? 'us-east-1';
  for (const bucket of opts.buckets) {
    if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw new Error(`Invalid bucket name: ${bucket}`);
  }
  // versitygw's posix backend treats the top-level directories as buckets.
  fs.mkdirSync(rootDir, { recursive: true });
  for (const bucket of opts.buckets) fs.mkdirSync(path.join(rootDir, bucket), { recursive: true });

  const port = opts.port ?? (await freePort());
  const args = [
    '--access',
    opts.accessKey,
    '--secret',
    opts.secretKey,
    '--port',
    `127.0.0.1:${port}`,
    '--region',
    region,
    '--quiet',
  ];
  if (opts.eventWebhookUrl) args.push('--event-webhook-url', opts.eventWebhookUrl);
  args.push(...(opts.extraArgs ?? []), 'posix', ...(opts.posixArgs ?? []), rootDir);

  const service = await spawnService({ name: 'versitygw', command: toolPath('versitygw'), args, logFile });
  const creds = { accessKey: opts.accessKey, secretKey: opts.secretKey, region };
  try {
    await waitUntilReady(
      service,
      `serving S3 on 127.0.0.1:${port}`,
      opts.startTimeoutMs ?? 30_000,
      async () => {
        if (!(await canConnect('127.0.0.1', port))) return false;
        const paths = opts.buckets.length > 0 ? opts.buckets.map((b) => `/${b}`) : ['/'];
        for (const p of paths) {
          const status = await signedStatus(p === '/' ? 'GET' : 'HEAD', port, p, creds);
          if (status !== 200)
            throw new Error(`signed ${p === '/' ? 'ListBuckets' : `HeadBucket ${p}`} returned ${status}`);
        }
        return true;
      },
    );
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { endpoint: `http://127.0.0.1:${port}`, port, region, rootDir, logFile, stop: () => service.stop() };
}
