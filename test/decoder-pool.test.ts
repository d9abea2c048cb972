import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DecoderPool } from '../activities/media/tools/decoder-pool';
import { renderImageIsolated } from '../activities/media/tools/image-isolated';
import { probeImage } from '../activities/media/tools/image';
import { MediaError, MediaStalled, type ImageInfo } from '../activities/media/tools/types';
import { noisyPng } from './helpers/generate-media';
import { eventually } from './helpers/http';

/** Real children under prlimit, real sharp: the pool's reuse, replacement and shutdown seen through PIDs. */
const MARKER = `poison-${randomBytes(8).toString('hex')}`;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const maxPixels = 100_000_000;
let dir: string;
let calm: string;
let crashing: string;
let calmInfo: ImageInfo;
let crashingInfo: ImageInfo;
let pool: DecoderPool | undefined;
let out = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'assetline-pool-'));
  calm = path.join(dir, 'calm.png');
  await writeFile(calm, await noisyPng(640, 480));
  crashing = path.join(dir, 'crashing.png');
  await writeFile(crashing, Buffer.concat([await noisyPng(48, 48), Buffer.from(`${MARKER}:crash-decoder`)]));
  calmInfo = await probeImage(calm, { maxPixels });
  crashingInfo = await probeImage(crashing, { maxPixels });
});
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Alive and not a zombie (an orphan's zombie lingers where nothing reaps it). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const pids = () => pool!.stats().children.map((c) => c.pid);

function render(src: string, info: ImageInfo, extra: { stallMs?: number; signal?: AbortSignal } = {}) {
  return renderImageIsolated(pool!, src, path.join(dir, `out-${++out}`), info, {
    maxPixels,
    stallMs: extra.stallMs ?? 60_000,
    signal: extra.signal,
    testPoisonMarker: MARKER,
  });
}

async function expectRendered(promise: ReturnType<typeof render>) {
  const { renditions, placeholder } = await promise;
  // AVIF variants come and go with the picture (only where smaller than the WebP): not this test's concern.
  const names = renditions.map((r) => r.name).filter((n) => !n.endsWith('-avif'));
  expect(names.sort()).toEqual(['preview-2048', 'thumb-1024', 'thumb-256']);
  expect(placeholder).toMatch(/^[A-Za-z0-9+/=]+$/);
}

describe('the image decoder pool', { timeout: 60_000 }, () => {
  it('renders images one after another in the same child', async () => {
    pool = new DecoderPool({ size: 2, memoryMb: 512 });
    await expectRendered(render(calm, calmInfo));
    const [first] = pids();
    await expectRendered(render(calm, calmInfo));
    expect(pool.stats()).toMatchObject({ spawned: 1, busy: 0, children: [{ pid: first, served: 2 }] });
    expect(await alive(first!)).toBe(true);
  });

  it('fails only the crashing image, twice crashed, and replaces the child for the next image', async () => {
    pool = new DecoderPool({ size: 1, memoryMb: 512 });
    await expectRendered(render(calm, calmInfo));
    const [warm] = pids();
    const crash = render(crashing, crashingInfo);
    await expect(crash).rejects.toThrow(MediaError);
    await expect(crash).rejects.toThrow('decoder crashed: SIGSEGV, then SIGSEGV (memory cap 512 MiB)');
    expect(await alive(warm!)).toBe(false);
    await expectRendered(render(calm, calmInfo));
    // The warm child, the fresh one the retry crashed too, and the one serving now.
    expect(pool.stats().spawned).toBe(3);
    expect(pids()).toHaveLength(1);
    expect(pids()[0]).not.toBe(warm);
  });

  it('kills a child that does not answer in time (MediaStalled) and starts another', async () => {
    pool = new DecoderPool({ size: 1, memoryMb: 512 });
    await expectRendered(render(calm, calmInfo));
    const [before] = pids();
    await expect(render(calm, calmInfo, { stallMs: 1 })).rejects.toThrow(MediaStalled);
    expect(await alive(before!)).toBe(false);
    await expectRendered(render(calm, calmInfo));
    expect(pids()).not.toContain(before);
  });

  it('kills the child doing an image whose activity is cancelled', async () => {
    pool = new DecoderPool({ size: 1, memoryMb: 512 });
    const controller = new AbortController();
    const cancelled = render(calm, calmInfo, { signal: controller.signal });
    // Dispatched before the call returned: the abort reaches the child at work, not a queue.
    expect(pool.stats().busy).toBe(1);
    const [working] = pids();
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    expect(await alive(working!)).toBe(false);
    await expectRendered(render(calm, calmInfo));
  });

  it('retires a child after its share of images', async () => {
    pool = new DecoderPool({ size: 1, memoryMb: 512, recycleAfter: 2 });
    await expectRendered(render(calm, calmInfo));
    const [first] = pids();
    await expectRendered(render(calm, calmInfo));
    expect(pids()).toEqual([]);
    await eventually(
      'the retired child to exit',
      () => alive(first!),
      (a) => !a,
    );
    await expectRendered(render(calm, calmInfo));
    expect(pool.stats().spawned).toBe(2);
  });

  it('retires a child whose memory grew past the bound', async () => {
    // 1 MiB: any child with sharp loaded is past it after its first image.
    pool = new DecoderPool({ size: 1, memoryMb: 512, recycleRssMb: 1 });
    await expectRendered(render(calm, calmInfo));
    expect(pids()).toEqual([]);
    await expectRendered(render(calm, calmInfo));
    expect(pool.stats().spawned).toBe(2);
  });

  it('leaves no child process once closed, and refuses further images', async () => {
    pool = new DecoderPool({ size: 2, memoryMb: 512 });
    await Promise.all([expectRendered(render(calm, calmInfo)), expectRendered(render(calm, calmInfo))]);
    const children = pids();
    expect(children).toHaveLength(2);
    await pool.close();
    for (const pid of children) expect(await alive(pid), `child ${pid}`).toBe(false);
    expect(pool.stats().children).toEqual([]);
    await expect(render(calm, calmInfo)).rejects.toThrow('image decoder pool is closed');
  });

  it('does not keep a process alive, and its children end with that process', async () => {
    const script = path.join(dir, 'owner.mts');
    await writeFile(
      script,
      `import { DecoderPool } from ${JSON.stringify(path.join(ROOT, 'activities/media/tools/decoder-pool.ts'))};
import { renderImageIsolated } from ${JSON.stringify(path.join(ROOT, 'activities/media/tools/image-isolated.ts'))};
import { probeImage } from ${JSON.stringify(path.join(ROOT, 'activities/media/tools/image.ts'))};
const pool = new DecoderPool({ size: 1, memoryMb: 512 });
const info = await probeImage(${JSON.stringify(calm)}, { maxPixels: 1e8 });
await renderImageIsolated(pool, ${JSON.stringify(calm)}, ${JSON.stringify(path.join(dir, 'owner-out'))}, info, { maxPixels: 1e8, stallMs: 60000 });
console.log(pool.stats().children[0].pid);
`,
    );
    const owner = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    owner.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // Never closed: the owner exits on its own only if the idle child does not hold its event loop.
    const code = await new Promise((resolve) => owner.once('close', resolve));
    expect(code).toBe(0);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect((await readdir(path.join(dir, 'owner-out'))).length).toBeGreaterThan(0);
    await eventually(
      'the orphaned child to exit',
      () => alive(pid),
      (a) => !a,
    );
  });
});
