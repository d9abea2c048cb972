import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from './helpers/http';
import { clip, largePdf, noisyPng, tone } from './helpers/generate-media';
import { countingProxy, type CountingProxy } from './helpers/counting-proxy';
import { jsonLines, runCli } from './helpers/cli';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

const PART = 5 * 1024 ** 2;

describe('the assetline CLI against the real stack', () => {
  let platform: TestPlatform;
  let proxy: CountingProxy;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // S3 behind a counting proxy: the platform presigns for the proxy, so every part the CLI sends is seen.
    proxy = await countingProxy(inject('stack').s3Endpoint);
    platform = await startPlatform({
      s3Endpoint: proxy.url,
      multipartThresholdBytes: 8 * 1024 ** 2,
      maxUploadBytes: 300 * 1024 ** 2,
    });
    dir = await mkdtemp(join(tmpdir(), 'assetline-cli-'));
    env = {
      ASSETLINE_URL: platform.baseUrl,
      ASSETLINE_TOKEN: await platform.token('8201'),
      ASSETLINE_STATE_DIR: join(dir, 'state'),
      HOME: dir,
    };
  });
  afterAll(async () => {
    await platform?.stop();
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('killed with SIGKILL mid-upload, a second run resumes without sending any completed part again', async () => {
    const file = join(dir, 'film.pdf');
    const { sha256, size } = await largePdf(file, 200 * 1024 ** 2);
    const parts = Math.ceil(size / PART);
    proxy.reset();
    const first = runCli(['upload', file, '--json', '--concurrency', '4'], {
      ...env,
      ASSETLINE_TEST_PAUSE_AFTER_PARTS: '6',
    });
    await first.stderrHas('paused after 6 parts');
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // Parts in flight at the kill either reached S3 or not; wait for the proxy to settle before asking.
    await eventually(
      'the proxy to be idle',
      async () => proxy.active(),
      (n) => n === 0,
    );

    const sessions = join(env.ASSETLINE_STATE_DIR!, 'sessions');
    const [only] = await readdir(sessions);
    const saved = JSON.parse(await readFile(join(sessions, only!), 'utf8')) as { assetId: string };
    expect(saved?.assetId).toMatch(/^[0-9a-f-]{36}$/);
    const held = await fetch(`${platform.baseUrl}/media/${saved!.assetId}/upload`, {
      headers: { Authorization: `Bearer ${env.ASSETLINE_TOKEN}` },
    }).then((r) => r.json() as Promise<{ parts: { partNumber: number; etag: string }[] }>);
    // Parts in flight at the kill may be held damaged (versitygw keeps a body cut short as a whole part): the resume
    // must find them by their ETag and send them again.
    const data = await readFile(file);
    const md5Of = (n: number) =>
      createHash('md5')
        .update(data.subarray((n - 1) * PART, n * PART))
        .digest('hex');
    const intact = held.parts
      .filter((p) => p.etag.replace(/"/g, '') === md5Of(p.partNumber))
      .map((p) => p.partNumber);
    const before = held.parts.map((p) => p.partNumber).sort((a, b) => a - b);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect(intact.length).toBeGreaterThanOrEqual(6);
    expect(before.length).toBeLessThan(parts);
    const firstRun = new Map(proxy.accepted);

    const second = await runCli(['upload', file, '--json', '--wait'], env).done;
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const [line] = jsonLines(second.stdout);
    expect(line).toMatchObject({ assetId: saved!.assetId, status: 'ready', sha256, sizeBytes: size });
    // Over both runs, S3 accepted each part exactly once; the second run sent only what S3 lacked.
    const secondRun = [...proxy.accepted].filter(([n, c]) => c > (firstRun.get(n) ?? 0)).map(([n]) => n);
    expect(secondRun.sort((a, b) => a - b)).toEqual(
      Array.from({ length: parts }, (_, i) => i + 1).filter((n) => !intact.includes(n)),
    );
    expect([...proxy.accepted.values()].every((c) => c === 1)).toBe(true);
    expect(proxy.accepted.size).toBe(parts);
    const asset = await fetch(`${platform.baseUrl}/media/${saved!.assetId}`, {
      headers: { Authorization: `Bearer ${env.ASSETLINE_TOKEN}` },
    }).then((r) => r.json() as Promise<{ checksumSha256: string }>);
    expect(asset.checksumSha256).toBe(sha256);
    // The finished session is gone from the state folder.
    expect(await readdir(sessions)).toEqual([]);
  }, 600_000);

  it('uploads a folder of mixed media with --wait --json; a fake PNG is rejected and the exit code says so', async () => {
    const media = join(dir, 'mixed');
    await mkdir(join(media, 'sub'), { recursive: true });
    await writeFile(join(media, 'noise.png'), await noisyPng(64, 48));
    await clip(join(media, 'sub', 'clip.mp4'), { width: 160, height: 120, seconds: 1 });
    await tone(join(media, 'sub', 'tone.wav'), 1);
    await writeFile(join(media, 'fake.png'), 'this is text, not a PNG');
    await writeFile(join(media, 'notes.txt'), 'skipped: no media type');
    const run = await runCli(['upload', media, '--wait', '--json', '--parallel', '3'], env).done;
    expect(run.stderr).toContain('skipped');
    const lines = jsonLines(run.stdout);
    const byName = Object.fromEntries(lines.map((l) => [String(l.file).slice(media.length + 1), l]));
    expect(Object.keys(byName).sort()).toEqual(['fake.png', 'noise.png', 'sub/clip.mp4', 'sub/tone.wav']);
    for (const name of ['noise.png', 'sub/clip.mp4', 'sub/tone.wav']) {
      expect(byName[name]).toMatchObject({
        status: 'ready',
        assetId: expect.any(String),
        sha256: expect.any(String),
      });
    }
    expect(byName['fake.png']).toMatchObject({ status: 'rejected', statusReason: expect.any(String) });
    expect(run.code).toBe(1);

    // --dry-run: the owner has all of them (by SHA-256); another owner, even one granted a read, has none.
    const dry = await runCli(['upload', media, '--dry-run', '--json'], env).done;
    expect(dry.code).toBe(0);
    const known = Object.fromEntries(
      jsonLines(dry.stdout).map((l) => [String(l.file).slice(media.length + 1), l]),
    );
    for (const name of ['noise.png', 'sub/clip.mp4', 'sub/tone.wav']) {
      expect(known[name]).toMatchObject({ status: 'exists', assetId: byName[name]!.assetId });
    }
    const shared = String(byName['noise.png']!.assetId);
    await fetch(`${platform.baseUrl}/media/${shared}/acl`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${env.ASSETLINE_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ grants: [{ principal: 'user:8202', permission: 'read' }] }),
    });
    const other = { ...env, ASSETLINE_TOKEN: await platform.token('8202') };
    const ls = await runCli(['ls', '--json'], other).done;
    expect(jsonLines(ls.stdout).map((l) => l.assetId)).toContain(shared);
    const theirs = await runCli(['upload', media, '--dry-run', '--json'], other).done;
    expect(jsonLines(theirs.stdout).map((l) => l.status)).toEqual(['new', 'new', 'new', 'new']);

    // get / url / watch / rm on the uploaded PNG.
    const out = join(dir, 'got.png');
    const got = await runCli(['get', shared, '-o', out], env).done;
    expect(got.code).toBe(0);
    expect((await stat(out)).size).toBe(byName['noise.png']!.sizeBytes);
    const url = await runCli(['url', shared, '--rendition', 'thumb-256'], env).done;
    expect(url.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/origin\/.*\n$/);
    const watched = await runCli(['watch', shared, '--json'], env).done;
    expect(jsonLines(watched.stdout)).toEqual([
      expect.objectContaining({ assetId: shared, status: 'ready' }),
    ]);
    const removed = await runCli(['rm', shared], env).done;
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(shared);
  }, 300_000);

  it('hostile: a bad token exits 3, a missing file exits 2, and a 4xx problem is shown with its detail', async () => {
    const file = join(dir, uniqueName('x') + '.png');
    await writeFile(file, await noisyPng(8, 8));
    const badToken = await runCli(['upload', file], { ...env, ASSETLINE_TOKEN: 'not-a-jwt' }).done;
    expect(badToken.code).toBe(3);
    expect(badToken.stdout + badToken.stderr).toMatch(/authentication failed \(401\)/);

    const missing = await runCli(['upload', join(dir, 'nope.png')], env).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or folder');

    const unknownFlag = await runCli(['ls', '--frobnicate'], env).done;
    expect(unknownFlag.code).toBe(2);

    const bad = await runCli(['ls', '--checksum', 'not-hex'], env).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP 400 .*checksumSha256.*must be 64 hexadecimal characters/);

    const noServer = await runCli(['ls'], { ...env, ASSETLINE_URL: 'http://127.0.0.1:9' }).done;
    expect(noServer.code).toBe(4);
    expect(noServer.stderr).toContain('network error');
  });
});
