import fs from 'node:fs';
import path from 'node:path';
import { exchange, freePort } from './ports';
import { chownRecursive, ensureTraversable, isRoot, lookupOsUser } from './os-user';
import { spawnService, waitUntilReady } from './process';

export interface StartClamdOptions {
  /** Holds `db/` (our own signature database), `clamd.conf`, `clamd.log`, `clamd.pid` and `tmp/`. */
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  /**
   * clamd's StreamMaxLength (a number of bytes, optionally with a K or M suffix, e.g. `1M`): INSTREAM scans of
   * more bytes are refused with `INSTREAM size limit exceeded. ERROR`. Default `100M`, clamd's own default: the
   * platform accepts far larger uploads (MAX_UPLOAD_BYTES defaults to 5 GiB), but clamd cannot scan files over
   * 2 GB at all. MaxFileSize is set to the same value so that no stream is accepted and then left unscanned.
   */
  streamMaxLength?: string;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface ClamdHandle {
  host: string;
  port: number;
  /** clamd's stream limit in bytes (StreamMaxLength), e.g. for ClamdScanner's `maxStreamBytes`. */
  streamMaxBytes: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The EICAR anti-malware test file (68 bytes); harmless, detected by every scanner by convention. */
export const EICAR_TEST_FILE = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** Name of our signature for it. clamd reports signatures of unofficial databases with `.UNOFFICIAL` appended. */
export const EICAR_SIGNATURE_NAME = 'Eicar-Test-Signature';
// .hdb line: MD5 of the whole file, its size, the signature name.
const EICAR_HDB_LINE = `44d88612fea8a8f36de82e1278abb02f:68:${EICAR_SIGNATURE_NAME}\n`;
// .ndb line: the EICAR string anywhere in any file type, as when it rides inside a valid image.
const EICAR_NDB_LINE = `${EICAR_SIGNATURE_NAME}.Embedded:0:*:${Buffer.from(EICAR_TEST_FILE, 'latin1').toString('hex')}\n`;
const DEFAULT_STREAM_MAX_LENGTH = '100M';

/** Size in clamd.conf's SIZE syntax to bytes. */
function parseSize(size: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(size.trim());
  if (!m?.[1])
    throw new Error(`startClamd: streamMaxLength must look like 1048576, 512K or 100M, got ${size}`);
  const unit = m[2]?.toUpperCase();
  const bytes = Number(m[1]) * (unit === 'M' ? 1024 * 1024 : unit === 'K' ? 1024 : 1);
  // clamd keeps the INSTREAM quota in 32 bits and cannot scan files of 2 GB or more.
  if (bytes <= 0 || bytes >= 2 ** 31) {
    throw new Error(`startClamd: streamMaxLength must be between 1 byte and 2 GB, got ${size}`);
  }
  return bytes;
}

function clamdPath(): string {
  const candidates = [process.env.CLAMD_PATH, '/usr/sbin/clamd'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir) candidates.push(path.join(dir, 'clamd'));
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // next
    }
  }
  throw new Error('clamd not found ($CLAMD_PATH, /usr/sbin/clamd, PATH): run bash scripts/provision.sh');
}

/** One `zPING`: true when clamd answers PONG. */
function pingClamd(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return exchange(host, port, timeoutMs, {
    send: 'zPING\0',
    terminator: '\0',
    accept: (r) => r.startsWith('PONG'),
  });
}

/**
 * Starts clamd on 127.0.0.1 with a signature database of our own (the EICAR test file only: freshclam cannot
 * download the official ones here, and clamd does not need them), and waits until it answers PING. When running as
 * root, clamd runs as the `clamav` user (if there is one) and `dataDir` is handed to it.
 */
export async function startClamd(opts: StartClamdOptions): Promise<ClamdHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const dbDir = path.join(dataDir, 'db');
  const tmpDir = path.join(dataDir, 'tmp');
  const confFile = path.join(dataDir, 'clamd.conf');
  const logFile = path.join(dataDir, 'clamd.log');
  const host = '127.0.0.1';
  const streamMaxLength = opts.streamMaxLength ?? DEFAULT_STREAM_MAX_LENGTH;
  const streamMaxBytes = parseSize(streamMaxLength);
  const command = clamdPath();
  const runAs = isRoot() ? lookupOsUser('clamav') : undefined;

  fs.mkdirSync(dbDir, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.writeFileSync(path.join(dbDir, 'assetline-test.hdb'), EICAR_HDB_LINE);
  fs.writeFileSync(path.join(dbDir, 'assetline-test.ndb'), EICAR_NDB_LINE);

  const port = opts.port ?? (await freePort());
  // Without `LogFile`, clamd in the foreground logs to stdout only, which spawnService appends to clamd.log (with a
  // LogFile as well, every line would be there twice). No `LocalSocket` (TCP only), no `User` (we pick the user).
  const settings: [string, string | number][] = [
    ['Foreground', 'yes'],
    ['TCPSocket', port],
    ['TCPAddr', host],
    ['DatabaseDirectory', dbDir],
    ['TemporaryDirectory', tmpDir],
    ['PidFile', path.join(dataDir, 'clamd.pid')],
    ['LogTime', 'yes'],
    ['StreamMaxLength', streamMaxBytes],
    // Files over MaxFileSize (default 100M) or MaxScanSize are accepted but not (fully) scanned, and reported as
    // "OK" unless AlertExceedsMax: keep MaxFileSize >= StreamMaxLength, and flag whatever is still cut short as
    // "Heuristics.Limits.Exceeded.* FOUND" rather than clean.
    ['MaxFileSize', streamMaxBytes],
    ['MaxScanSize', Math.max(streamMaxBytes, 400 * 1024 * 1024)],
    ['AlertExceedsMax', 'yes'],
  ];
  fs.writeFileSync(
    confFile,
    '# Generated by devstack/clamd.ts\n' + settings.map(([k, v]) => `${k} ${v}`).join('\n') + '\n',
  );
  fs.writeFileSync(logFile, '', { flag: 'a' });
  if (runAs) {
    ensureTraversable(dataDir, runAs);
    chownRecursive(dataDir, runAs);
  }

  const service = await spawnService({
    name: 'clamd',
    command,
    args: [`--config-file=${confFile}`],
    logFile,
    uid: runAs?.uid,
    gid: runAs?.gid,
  });
  try {
    await waitUntilReady(service, `answering PING on ${host}:${port}`, opts.startTimeoutMs ?? 60_000, () =>
      pingClamd(host, port, 2000),
    );
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { host, port, streamMaxBytes, dataDir, logFile, stop: () => service.stop() };
}
