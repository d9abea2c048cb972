import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signDevToken } from '../../devstack/dev-token';
import { noisyPng } from '../helpers/generate-media';
import { eventually, request } from '../helpers/http';
import {
  expectReadyAndClean,
  localFile,
  prepareUpload,
  settledStatus,
  startCrashLab,
  type CrashLab,
} from './crash-recovery';

/**
 * A poison input that kills the worker process (here the env-gated test trigger: SIGKILL of the worker when it
 * renders a marked file) must not loop forever: after 3 lost attempts the asset fails at that stage with the cause,
 * a dead letter is filed, other assets keep flowing, and an operator's retry works once the cause is gone.
 */
const MARKER = `poison-${randomBytes(8).toString('hex')}`;
const SETTLE_MS = 150_000;

let lab: CrashLab;
let operator: string;
let dir: string;
/** Restarts the worker each time it dies, as an orchestrator would; counts the deaths. */
let deaths = 0;
let supervising = true;
let supervisor: Promise<void>;

const deathSignals: (string | null)[] = [];

async function supervise(): Promise<void> {
  while (supervising) {
    const exit = await lab.platform.worker.exited;
    if (!supervising) return;
    deaths += 1;
    deathSignals.push(exit.signal);
    // A worker dying again while it starts (before it reported running) is restarted all the same.
    for (;;) {
      try {
        await lab.platform.start('worker');
        break;
      } catch {
        if (!supervising) return;
        deaths += 1;
        deathSignals.push('died while starting');
      }
    }
  }
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(inject('stack').tmpDir, 'poison-'));
  lab = await startCrashLab({
    dataDir: path.join(dir, 'platform'),
    workerEnv: {
      NODE_ENV: 'test',
      ASSETLINE_TEST_POISON_MARKER: MARKER,
      MEDIA_CONCURRENCY: '2',
      // Its smallest setting: enough for ordinary photos, not for a 7000×7000 16-bit interlaced PNG decoded whole
      // (294 MB of pixels: the cap is what decoding may add to the data segment Node holds at start).
      DECODER_MEMORY_MB: '256',
    },
  });
  operator = await signDevToken(lab.platform.jwtSecret, { sub: '1', role: 'operator' });
  supervisor = supervise();
});

afterAll(async () => {
  supervising = false;
  await lab?.close();
  await supervisor?.catch(() => undefined);
});

/** A 16-bit interlaced PNG must be decoded whole: side² × 6 bytes of pixels (nearest-neighbour keeps it small). */
async function heavyPng(file: string, side: number): Promise<void> {
  const seed = side / 10;
  await sharp(randomBytes(seed * seed * 3), { raw: { width: seed, height: seed, channels: 3 } })
    .resize(side, side, { kernel: 'nearest' })
    .toColourspace('rgb16')
    .png({ progressive: true, compressionLevel: 1 })
    .toFile(file);
}

async function assetRow(assetId: string) {
  return lab.db
    .selectFrom('media_assets')
    .select(['status', 'failed_stage', 'status_reason'])
    .where('asset_id', '=', assetId)
    .executeTakeFirstOrThrow();
}

describe('a decoder that crashes or runs out of memory in its child process', { timeout: 240_000 }, () => {
  it('fails the asset with the cause while the worker stays up and a neighbour becomes ready', async () => {
    const worker = lab.platform.worker;
    const crashingFile = path.join(dir, 'crashing.png');
    await fs.writeFile(
      crashingFile,
      Buffer.concat([await noisyPng(48, 48), Buffer.from(`${MARKER}:crash-decoder`)]),
    );
    const heavyFile = path.join(dir, 'heavy.png');
    await heavyPng(heavyFile, 7000);
    const neighbourFile = path.join(dir, 'calm.png');
    await fs.writeFile(neighbourFile, await noisyPng(48, 48));
    const [crashing, heavy, neighbour] = await Promise.all([
      prepareUpload(lab, await localFile(crashingFile, 'image/png')),
      prepareUpload(lab, await localFile(heavyFile, 'image/png')),
      prepareUpload(lab, await localFile(neighbourFile, 'image/png')),
    ]);
    await Promise.all([crashing.complete(), heavy.complete(), neighbour.complete()]);

    const [crashed, tooBig, calm] = await Promise.all(
      [crashing, heavy, neighbour].map((u) => settledStatus(lab, u.assetId, SETTLE_MS)),
    );
    expect([crashed, tooBig, calm]).toEqual(['failed', 'failed', 'ready']);
    // The child crashed twice (a crash is tried once more in a fresh child): an input failure, not a lost worker.
    expect(await assetRow(crashing.assetId)).toEqual({
      status: 'failed',
      failed_stage: 'renditions',
      status_reason: 'renditions failed: decoder crashed: SIGSEGV, then SIGSEGV (memory cap 256 MiB)',
    });
    expect(await assetRow(heavy.assetId)).toMatchObject({
      status: 'failed',
      failed_stage: 'renditions',
      status_reason: expect.stringMatching(
        /^renditions failed: (png image could not be decoded: .*out of memory|decoder crashed: )/,
      ),
    });
    await expectReadyAndClean(lab, neighbour.assetId, neighbour.media);
    expect(lab.platform.worker, 'the same worker process').toBe(worker);
    expect(worker.exitInfo, 'the worker is still running').toBeUndefined();
    expect(deaths).toBe(0);
    expect(await lab.db.selectFrom('dead_letters').selectAll().execute()).toEqual([]);
  });
});

describe('a poison input that kills the worker', { timeout: 300_000 }, () => {
  it('fails at its stage after 3 losses with a dead letter; a neighbour becomes ready; a retry succeeds', async () => {
    // The trigger's bytes trail the PNG's end: decoders ignore them, the trigger finds them.
    const poisonFile = path.join(dir, 'poison.png');
    await fs.writeFile(
      poisonFile,
      Buffer.concat([await noisyPng(64, 64), Buffer.from(`${MARKER}:kill-worker`)]),
    );
    const neighbourFile = path.join(dir, 'neighbour.png');
    await fs.writeFile(neighbourFile, await noisyPng(64, 64));
    const [poison, neighbour] = await Promise.all([
      prepareUpload(lab, await localFile(poisonFile, 'image/png')),
      prepareUpload(lab, await localFile(neighbourFile, 'image/png')),
    ]);
    const startedAt = Date.now();
    await Promise.all([poison.complete(), neighbour.complete()]);

    expect(await settledStatus(lab, neighbour.assetId, SETTLE_MS)).toBe('ready');
    expect(await settledStatus(lab, poison.assetId, SETTLE_MS)).toBe('failed');
    const failedAfterS = (Date.now() - startedAt) / 1000;
    expect(deaths, 'the worker died once per lost attempt, and no more').toBe(3);
    expect(deathSignals).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);

    const asset = await lab.db
      .selectFrom('media_assets')
      .select(['status', 'failed_stage', 'status_reason', 'blob_sha256'])
      .where('asset_id', '=', poison.assetId)
      .executeTakeFirstOrThrow();
    expect(asset).toMatchObject({
      status: 'failed',
      failed_stage: 'renditions',
      status_reason:
        'renditions failed: worker lost 3 times at stage renditions (heartbeat timeout ×3): input quarantined for inspection',
    });

    const letters = await request<{ deadLetters: Record<string, unknown>[] }>(
      'GET',
      `${lab.platform.apiUrl}/admin/dead-letters`,
      { token: operator },
    );
    expect(letters.status).toBe(200);
    expect(letters.body.deadLetters).toEqual([
      expect.objectContaining({
        assetId: poison.assetId,
        stage: 'renditions',
        cause: 'heartbeat timeout ×3',
        attempts: 3,
        quarantines: 1,
        sha256: poison.media.sha256,
        blobKey: expect.stringContaining(poison.media.sha256),
        assetStatus: 'failed',
      }),
    ]);
    const row = await lab.db.selectFrom('dead_letters').selectAll().executeTakeFirstOrThrow();
    expect(row.last_seen_at.getTime()).toBeGreaterThan(row.first_seen_at.getTime());
    // To anyone but an operator the route does not exist.
    const owner = await request('GET', `${lab.platform.apiUrl}/admin/dead-letters`, { token: lab.token });
    expect(owner.status).toBe(404);

    // The cause removed (a fixed decoder: here the trigger switched off), the operator's retry reprocesses it.
    supervising = false;
    await lab.platform.kill('worker');
    await supervisor;
    await lab.platform.start('worker', { ASSETLINE_TEST_POISON_MARKER: '' });
    const retry = await request('POST', `${lab.platform.apiUrl}/media/${poison.assetId}/retry`, {
      token: operator,
    });
    expect(retry.status).toBe(202);
    await eventually(
      'the retried asset to become ready',
      () =>
        lab.db
          .selectFrom('media_assets')
          .select('status')
          .where('asset_id', '=', poison.assetId)
          .executeTakeFirstOrThrow(),
      (r) => r.status === 'ready',
      60_000,
    );
    await expectReadyAndClean(lab, poison.assetId, poison.media);
    await expectReadyAndClean(lab, neighbour.assetId, neighbour.media);
    console.table([{ crashesSurvived: deaths, assetsLost: 0, failedAfterS }]);
  });
});
