import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startVersitygw, type VersitygwHandle } from '../devstack';
import { parseUploadKey } from '../domain/object-keys';
import { eventually } from './helpers/http';
import { waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { STORAGE_EVENTS_SECRET, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';
import { serveUppyPage, type UppyPage } from './helpers/uppy-page';

/**
 * Stock Uppy (v5, @uppy/aws-s3 in Companion mode) in Debian's headless Chromium against the real stack: the API's
 * /s3 routes, versitygw through its bucket CORS, the worker to `ready`. Screenshots go to test/tmp/screenshots.
 */
const SHOTS = path.join(process.cwd(), 'test', 'tmp', 'screenshots');
const BIG = 150 * 1000 * 1000;
const PARTS_BEFORE_RELOAD = 8;

interface LogEntry {
  type: string;
  name?: string;
  partNumber?: number;
  uploadURL?: string;
  body?: { assetId?: string } | null;
  message?: string;
}

/** What the page's script (test/helpers/uppy-page.ts) puts on `window`. */
interface PageGlobals {
  uppyReady?: boolean;
  uppyLog: LogEntry[];
  addWav(name: string, bytes: number): void;
  startUpload(): Promise<unknown>;
  resumeUploads(): Promise<unknown>;
}

describe('browser uploads with stock Uppy in Chromium', () => {
  let platform: TestPlatform;
  let s3: VersitygwHandle;
  let site: UppyPage;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    const stack = inject('stack');
    const [s3Port, pagePort] = [await freePort(), await freePort()];
    const bucket = uniqueName('browser');
    const origin = `http://localhost:${pagePort}`;
    // Single PUTs complete by S3's event notification (Companion has no completion call), so this bucket lives on
    // a versitygw of its own that posts to the API; the API comes up first, as versitygw tests its webhook.
    platform = await startPlatform({
      s3Endpoint: `http://127.0.0.1:${s3Port}`,
      s3Bucket: bucket,
      maxUploadBytes: 400 * 1024 ** 2,
      corsAllowedOrigins: [origin],
    });
    s3 = await startVersitygw({
      dataDir: path.join(stack.tmpDir, uniqueName('vgw-browser')),
      port: s3Port,
      accessKey: stack.s3AccessKey,
      secretKey: stack.s3SecretKey,
      buckets: [bucket],
      eventWebhookUrl: `${platform.baseUrl}/storage-events?token=${STORAGE_EVENTS_SECRET}`,
    });
    await platform.store.allowBrowserUploads([origin]);
    site = await serveUppyPage(pagePort);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    token = await platform.token('7007');
    await fs.mkdir(SHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await platform?.stop();
    await s3?.stop();
  });

  async function openPage(context: Awaited<ReturnType<Browser['newContext']>>): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${site.origin}/?api=${encodeURIComponent(platform.baseUrl)}&token=${token}`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).uppyReady === true);
    return page;
  }
  const uppyLog = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).uppyLog);
  const assetOfUrl = (url: string) =>
    parseUploadKey(new URL(url).pathname.split('/').slice(2).join('/'))!.assetId;

  it('uploads a small PNG with a single pre-signed PUT through CORS, and it becomes ready', async () => {
    const context = await browser.newContext();
    const page = await openPage(context);
    const png = await noisyPng(160, 120);
    await page.setInputFiles('#files', { name: 'small.png', mimeType: 'image/png', buffer: png });
    await page.evaluate(() => (globalThis as unknown as PageGlobals).startUpload());
    const log = await eventually(
      'Uppy to finish',
      () => uppyLog(page),
      (l) => l.length > 0 && l.some((e) => e.type !== 'part'),
    );
    const done = log.find((e) => e.type === 'success');
    expect(done, JSON.stringify(log)).toBeDefined();
    const assetId = assetOfUrl(done!.uploadURL!);
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['ready', 'rejected'], 60_000);
    expect(asset).toMatchObject({ status: 'ready', sizeBytes: png.length, contentType: 'image/png' });
    await page.screenshot({ path: path.join(SHOTS, 'small-png.png') });
    await context.close();
  }, 90_000);

  it('uploads 150 MB in parts, survives a reload mid-upload without resending stored parts, and is ready', async () => {
    const context = await browser.newContext();
    const page = await openPage(context);
    // The barrier: after PARTS_BEFORE_RELOAD parts, part PUTs are held until the page reloads, so the reload
    // always lands mid-upload whatever the machine's speed.
    const putsBefore: number[] = [];
    const putsAfter: number[] = [];
    let reloaded = false;
    await context.route(/X-Amz-Signature/, async (route) => {
      const url = new URL(route.request().url());
      const part = Number(url.searchParams.get('partNumber'));
      if (route.request().method() !== 'PUT' || !part) return route.continue();
      if (reloaded) {
        putsAfter.push(part);
        return route.continue();
      }
      if (putsBefore.length >= PARTS_BEFORE_RELOAD) return; // held: dropped by the reload
      putsBefore.push(part);
      return route.continue();
    });
    await page.evaluate((bytes) => {
      const w = globalThis as unknown as PageGlobals;
      w.addWav('big.wav', bytes);
      void w.startUpload();
    }, BIG);
    const first = await eventually(
      'the first parts to be stored',
      () => uppyLog(page),
      (l) => l.filter((e) => e.type === 'part').length >= PARTS_BEFORE_RELOAD,
      60_000,
    );
    expect(
      first.some((e) => e.type === 'error'),
      JSON.stringify(first),
    ).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'big-before-reload.png') });

    reloaded = true;
    await page.reload();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).uppyReady === true);
    await eventually(
      'Golden Retriever to restore the file',
      () => uppyLog(page),
      (l) => l.some((e) => e.type === 'restored'),
    );
    await page.evaluate(() => void (globalThis as unknown as PageGlobals).resumeUploads());
    const log = await eventually(
      'the resumed upload to finish',
      () => uppyLog(page),
      (l) => l.some((e) => e.type === 'success' || e.type === 'error'),
      120_000,
    );
    const done = log.find((e) => e.type === 'success');
    expect(done, JSON.stringify(log)).toBeDefined();
    await page.screenshot({ path: path.join(SHOTS, 'big-done.png') });

    const parts = Math.ceil(BIG / (5 * 1024 ** 2));
    const stored = new Set(putsBefore);
    expect(stored.size).toBe(PARTS_BEFORE_RELOAD);
    // No part stored before the reload was sent again; together the two runs sent every part.
    expect(putsAfter.filter((n) => stored.has(n))).toEqual([]);
    expect(new Set([...putsBefore, ...putsAfter]).size).toBe(parts);

    const assetId = done!.body!.assetId!;
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['ready', 'rejected'], 120_000);
    expect(asset).toMatchObject({ status: 'ready', sizeBytes: BIG, contentType: 'audio/wav' });
    await context.close();
  }, 170_000);
});
