import { basename } from 'node:path';
import type { AssetlineClient, AssetStatus } from '../client.ts';
import { describe, EXIT, exitCodeOf, worst } from './exit.ts';
import { collectFiles, sha256OfFile, type LocalFile } from './files.ts';
import { bytes, ProgressView, type FileProgress } from './progress.ts';
import { SessionState } from './state.ts';
import type { Io } from './io.ts';

export interface UploadArgs {
  paths: string[];
  parallel: number;
  concurrency: number;
  wait: boolean;
  dryRun: boolean;
  json: boolean;
  visibility?: 'draft' | 'private' | 'unlisted' | 'public' | undefined;
  metadata: Record<string, string>;
}

/** What --json prints per file, and what the exit code is decided from. */
interface Outcome {
  file: string;
  assetId?: string;
  status: AssetStatus | 'exists' | 'new' | 'error';
  sizeBytes: number;
  sha256?: string;
  statusReason?: string | null;
  error?: string;
  code: number;
}

const FAILED: readonly string[] = ['rejected', 'failed', 'quarantined', 'expired', 'deleted'];

export async function uploadCommand(client: AssetlineClient, args: UploadArgs, io: Io): Promise<number> {
  const files = await collectFiles(args.paths, (p) => io.note(`skipped ${p}: unknown type`));
  const view = io.stderr.isTTY && !args.json ? new ProgressView(io.stderr) : undefined;
  const say = (line: string) =>
    view ? view.log(line) : args.json ? undefined : io.stdout.write(`${line}\n`);
  if (view) view.totalBytes = files.reduce((n, f) => n + f.size, 0);
  const state = new SessionState(io.env);
  const pause = testPause(io);

  const one = async (file: LocalFile): Promise<Outcome> => {
    const name = basename(file.path);
    try {
      if (args.dryRun) return await dryRun(client, file, say);
      const key = SessionState.key(file.path, file.size, file.mtimeMs);
      const saved = await state.get(key);
      const resume =
        saved && saved.url === client.baseUrl
          ? { assetId: saved.assetId, partUrls: saved.partUrls }
          : undefined;
      const bar: FileProgress = { name, total: file.size, done: 0 };
      view?.files.add(bar);
      let sent = 0;
      let skipped = 0;
      const result = await client
        .upload(file.path, {
          contentType: file.contentType,
          filename: name,
          metadata: args.metadata,
          visibility: args.visibility,
          concurrency: args.concurrency,
          resume,
          onSession: async (s) => {
            await state.set(key, {
              assetId: s.assetId,
              url: client.baseUrl,
              startedAt: new Date().toISOString(),
            });
            say(`${resume?.assetId === s.assetId ? 'resume' : 'start'} ${name} ${s.assetId}`);
          },
          onProgress: (p) => {
            bar.done = p.sentBytes + p.skippedBytes;
            if (view) {
              view.sentBytes += p.sentBytes - sent;
              view.skippedBytes += p.skippedBytes - skipped;
            }
            sent = p.sentBytes;
            skipped = p.skippedBytes;
          },
          onPartUrls: (urls) => state.addPartUrls(key, urls),
          onPart: pause,
        })
        .finally(() => view?.files.delete(bar));
      await state.set(key, undefined);
      if (io.env.ASSETLINE_TIMING) io.stderr.write(`timing ${name} ${JSON.stringify(result.timings)}\n`);
      say(
        `uploaded ${name} ${result.assetId} ${bytes(file.size)} sha256=${result.sha256}` +
          (result.skippedParts
            ? ` (${result.skippedParts} parts already on the server, not sent again)`
            : ''),
      );
      let status: AssetStatus = result.status;
      let statusReason: string | null = null;
      if (args.wait) {
        const asset = await client.waitUntilReady(result.assetId, {
          onStage: (s) =>
            say(
              `${s.status} ${name}${s.stage ? ` ${s.stage}` : ''}${s.percent !== null ? ` ${s.percent}%` : ''}`,
            ),
        });
        status = asset.status;
        statusReason = asset.statusReason;
        if (asset.status === 'ready' && asset.checksumSha256 !== result.sha256) {
          throw new Error(`${name}: the server holds SHA-256 ${asset.checksumSha256}, not ${result.sha256}`);
        }
      }
      const code = FAILED.includes(status) ? EXIT.assetFailed : EXIT.ok;
      return {
        file: file.path,
        assetId: result.assetId,
        status,
        sizeBytes: file.size,
        sha256: result.sha256,
        statusReason,
        code,
      };
    } catch (err) {
      // Failures go to stderr in every mode: --json keeps stdout for results, but a human must see why.
      if (view) view.log(`error ${name}: ${describe(err)}`);
      else io.stderr.write(`error ${name}: ${describe(err)}\n`);
      return {
        file: file.path,
        status: 'error',
        sizeBytes: file.size,
        error: describe(err),
        code: exitCodeOf(err),
      };
    }
  };

  const outcomes = await pool(files, Math.max(1, args.parallel), async (file) => {
    const outcome = await one(file);
    if (args.json) {
      const { code: _code, ...printed } = outcome;
      io.stdout.write(`${JSON.stringify(printed)}\n`);
    }
    return outcome;
  });
  view?.stop();
  return worst(outcomes.map((o) => o.code));
}

/** --dry-run: the caller's own assets with the same bytes (GET /media?checksumSha256=), nobody else's. */
async function dryRun(client: AssetlineClient, file: LocalFile, say: (l: string) => void): Promise<Outcome> {
  const sha256 = await sha256OfFile(file.path);
  for await (const asset of client.list({ checksumSha256: sha256, limit: 1 })) {
    say(`exists ${basename(file.path)} ${asset.assetId} ${asset.status}`);
    return {
      file: file.path,
      assetId: asset.assetId,
      status: 'exists',
      sizeBytes: file.size,
      sha256,
      code: EXIT.ok,
    };
  }
  say(`new ${basename(file.path)}`);
  return { file: file.path, status: 'new', sizeBytes: file.size, sha256, code: EXIT.ok };
}

async function pool<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A hook for the resume test: ASSETLINE_TEST_PAUSE_AFTER_PARTS=N makes the CLI stop sending once N parts were
 * acknowledged and say so on stderr, so the test kills it at a known point instead of racing a timer.
 */
function testPause(io: Io): ((partNumber: number) => Promise<void>) | undefined {
  const after = Number(io.env.ASSETLINE_TEST_PAUSE_AFTER_PARTS);
  if (!Number.isInteger(after) || after <= 0) return undefined;
  let parts = 0;
  return async () => {
    if (++parts < after) return;
    if (parts === after) io.stderr.write(`paused after ${after} parts\n`);
    await new Promise(() => undefined);
  };
}
