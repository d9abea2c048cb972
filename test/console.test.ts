import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { freePort, type NginxHandle } from '../devstack';
import { request, eventually } from './helpers/http';
import { uploadFile, waitForStatus } from './helpers/media';
import { clip, noisyPng, onePagePdf, tone } from './helpers/generate-media';
import { uniqueName, type TestPlatform } from './helpers/stack';
import { startPlatformBehindEdge } from './helpers/edge';
import { checkPage, launchChromium, watchPolicyViolations } from './helpers/console-page';

/**
 * The web console (/console) in Debian's headless Chromium against the real stack: sign-in by link, uploads through
 * Uppy's dashboard and the /s3 routes, the stage going to ready, HLS playback, edits, delete and restore, an
 * operator's retry, and another owner's asset out of reach. Each page is checked with axe-core and photographed.
 */
const TEMPORAL_UI = 'http://temporal-ui.invalid:8233';

/** What the test touches of a <video> (the root tsconfig has no DOM types). */
interface MediaElement {
  muted: boolean;
  currentTime: number;
  getAttribute(name: string): string | null;
  play(): Promise<void>;
  pause(): void;
}

describe('web console in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let edge: NginxHandle;
  let owner: string;
  let work: string;
  let image: { id: string; name: string };
  let video: { id: string; name: string };

  beforeAll(async () => {
    const port = await freePort();
    work = path.join(inject('stack').tmpDir, uniqueName('console'));
    await fs.mkdir(work, { recursive: true });
    // The console is the API's own origin; its uploads PUT to the bucket, whose CORS names that origin. Bytes come
    // from the nginx edge on another origin, as with npm start.
    ({ platform, nginx: edge } = await startPlatformBehindEdge(work, {
      port,
      corsAllowedOrigins: [`http://127.0.0.1:${port}`],
      console: { temporalUiUrl: TEMPORAL_UI, temporalNamespace: 'default' },
    }));
    browser = await launchChromium();
    owner = await platform.token('4101');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await edge?.stop();
  });

  /** Everything the console's Content-Security-Policy refused on the pages of the test under way: nothing, ever. */
  const refused: string[] = [];
  afterEach(() => {
    expect(refused.splice(0), 'refused by the console CSP').toEqual([]);
  });

  async function signedInPage(token: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    watchPolicyViolations(page, refused);
    await page.goto(`${platform.baseUrl}/console/#token=${token}`);
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
    return { context, page };
  }
  const statusOf = (page: Page) => page.locator('article.asset').getAttribute('data-status');

  it('serves the shell uncached and hashed assets immutable, the first page under 300 KB gzipped', async () => {
    const shell = await fetch(`${platform.baseUrl}/console/`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('cache-control')).toBe('no-cache');
    const html = await shell.text();
    const files = [...html.matchAll(/(?:href|src)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThanOrEqual(2);
    let gzipped = 0;
    for (const file of files) {
      const res = await fetch(`${platform.baseUrl}${file}`, { headers: { 'accept-encoding': 'identity' } });
      expect(res.status, file).toBe(200);
      expect(res.headers.get('cache-control'), file).toBe('public, max-age=31536000, immutable');
      const { gzipSync } = await import('node:zlib');
      gzipped += gzipSync(Buffer.from(await res.arrayBuffer()), { level: 9 }).length;
    }
    console.log(`console first page: ${files.length} files, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(gzipped).toBeLessThan(300 * 1024);
    // Uppy and hls.js are not part of it.
    expect(files.filter((f) => /\/upload-/.test(f))).toEqual([]);
    expect((await fetch(`${platform.baseUrl}/console/assets/nope-123.js`)).status).toBe(404);
  });

  it('signs in from the link, uploads an image and a clip through Uppy, follows the clip to ready and plays it', async () => {
    const png = await noisyPng(640, 480);
    const clipFile = path.join(work, 'clip.mp4');
    await clip(clipFile, { width: 320, height: 240, seconds: 6, audio: true });
    const { context, page } = await signedInPage(owner);
    const pageLog: string[] = [];
    page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on('requestfailed', (r) => pageLog.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => pageLog.push(`${r.status()} ${r.url().slice(0, 120)}`));
    // The token left the URL and lives in the tab's session storage only.
    expect(new URL(page.url()).hash).toBe('#/');
    expect(await page.evaluate(() => sessionStorage.getItem('assetline.token'))).toBe(owner);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await page.getByRole('link', { name: 'Upload' }).click();
    await page.locator('.dashboard[data-ready="yes"]').waitFor();
    await page
      .locator('.uppy-Dashboard-input')
      .first()
      .setInputFiles([
        { name: 'noise.png', mimeType: 'image/png', buffer: png },
        { name: 'clip.mp4', mimeType: 'video/mp4', buffer: await fs.readFile(clipFile) },
      ]);
    // Uppy moves focus onto its Cancel button while files wait or upload: checked in that state on purpose.
    await page.locator('.uppy-DashboardContent-back').focus();
    await checkPage(page, 'upload-ready');
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    await page.locator('.uploaded li').nth(1).waitFor({ timeout: 60_000 });
    await page.locator('.uppy-StatusBar.is-complete').waitFor();
    await checkPage(page, 'upload');
    const uploaded = await page
      .locator('.uploaded li')
      .evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-asset-id')!, name: e.textContent! })));
    image = uploaded.find((u) => u.name === 'noise.png')!;
    video = uploaded.find((u) => u.name === 'clip.mp4')!;
    expect(image && video).toBeTruthy();

    // The clip's page shows its status move to ready while it polls.
    await page.locator(`.uploaded li[data-asset-id="${video.id}"] a`).click();
    const seen = new Set<string>();
    await eventually(
      'the page to show the clip ready',
      async () => {
        const s = await statusOf(page);
        if (s) seen.add(s);
        return s;
      },
      (s) => s === 'ready' || s === 'failed' || s === 'rejected',
      90_000,
    );
    expect(await statusOf(page)).toBe('ready');
    expect(
      [...seen].some((s) => s === 'processing' || s === 'pending'),
      [...seen].join(),
    ).toBe(true);
    expect((await waitForStatus(platform.baseUrl, owner, video.id, ['ready'])).status).toBe('ready');

    // Playback: hls.js loads the signed master's fragments and the element's clock moves.
    const player = page.locator('video');
    // play() settles only once media plays: not awaited, so a player that cannot load fails below with the log.
    await player.evaluate((v: MediaElement) => {
      v.muted = true;
      void v.play().catch(() => undefined);
    });
    // The clock moved past 1 s and hls.js counted its loaded fragments on the element.
    // (Polled from here: waitForFunction evaluates a string in the page, which the console's CSP refuses.)
    await eventually(
      'the clip to play past 1 s from loaded fragments',
      () =>
        player.evaluate((v: MediaElement) => ({
          time: v.currentTime,
          fragments: Number(v.getAttribute('data-fragments')),
        })),
      (p) => p.time > 1 && p.fragments >= 1,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\npage log:\n${pageLog.join('\n')}`);
    });
    const segments = await page.evaluate(
      () =>
        performance.getEntriesByType('resource').filter((e) => /\/hls\/.*\.(m4s|mp4|ts)(\?|$)/.test(e.name))
          .length,
    );
    expect(segments).toBeGreaterThan(0);
    await player.evaluate((v: MediaElement) => v.pause());

    // Seek previews: hovering the strip under the player shows the storyboard's tile for that time (from the
    // sprite, through the edge), a different picture further on; a click seeks there.
    const scrub = page.locator('.scrub');
    await scrub.waitFor();
    const strip = (await scrub.boundingBox())!;
    const tileAt = async (fraction: number) => {
      await page.mouse.move(strip.x + strip.width * fraction, strip.y + strip.height / 2);
      const frame = page.locator('.scrub-frame');
      await frame.waitFor();
      expect(
        await frame.evaluate((el: { style: { backgroundImage: string } }) => el.style.backgroundImage),
      ).toMatch(/storyboard-\d+\.jpg\?/);
      // Until the sprite has loaded the box is empty: wait for a picture in it.
      let tile = await frame.screenshot();
      await eventually(
        'the storyboard tile to show a picture',
        async () =>
          Math.max(...(await sharp((tile = await frame.screenshot())).stats()).channels.map((c) => c.stdev)),
        (stdev) => stdev > 10,
        10_000,
      );
      return sharp(tile).resize(64, 48, { fit: 'fill' }).raw().toBuffer();
    };
    const early = await tileAt(0.1);
    const later = await tileAt(0.7);
    const difference = early.reduce((sum, v, i) => sum + Math.abs(v - later[i]!), 0) / early.length;
    expect(difference).toBeGreaterThan(5);
    await page.mouse.click(strip.x + strip.width * 0.5, strip.y + strip.height / 2);
    const seekedTo = await player.evaluate((v: MediaElement) => v.currentTime);
    expect(Math.abs(seekedTo - 3)).toBeLessThan(1);
    await page.mouse.move(0, 0);

    expect(await page.getByRole('link', { name: 'Run in the Temporal UI' }).getAttribute('href')).toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/asset-${video.id}`,
    );
    await expect.poll(() => page.getByRole('cell', { name: 'poster' }).count()).toBe(1);
    // Why each rung exists: the page's ladder is the decision the API keeps in media.ladder, rung by rung.
    type Ladder = {
      complexityBitsPerPixel: number;
      rungs: {
        name: string;
        limitedBy: string;
        publishedAttempt: number;
        attempts: { capKbps: number; ssim?: number }[];
      }[];
    };
    const { ladder } = (
      await request<{ media: { ladder: Ladder } }>('GET', `${platform.baseUrl}/media/${video.id}`, {
        token: owner,
      })
    ).body.media;
    expect(ladder.rungs.length).toBeGreaterThan(0);
    const panel = page.getByRole('region', { name: 'Encoding ladder' });
    await expect.poll(() => panel.locator('tbody tr').count()).toBe(ladder.rungs.length);
    expect(await panel.locator('.ladder-summary').innerText()).toContain(
      `${ladder.complexityBitsPerPixel.toFixed(3)} bits/pixel`,
    );
    for (const rung of ladder.rungs) {
      const cells = await panel.locator(`tr[data-rung="${rung.name}"] td`).allInnerTexts();
      const { capKbps, ssim } = rung.attempts[rung.publishedAttempt]!;
      expect(cells[0], rung.name).toBe(`${capKbps.toLocaleString('en')} kbps`);
      expect(cells[3], rung.name).toBe(ssim === undefined ? '—' : ssim.toFixed(4));
      expect(cells[5], rung.name).toContain(rung.limitedBy);
    }
    await checkPage(page, 'asset-video');

    // The image: its page shows the preview rendition's pixels; the library shows both with thumbnails.
    await waitForStatus(platform.baseUrl, owner, image.id, ['ready'], 60_000);
    await page.goto(`${platform.baseUrl}/console/#/asset/${image.id}`);
    const preview = page.locator('img[data-rendition="preview-2048"]');
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((i: { naturalWidth: number }) => i.naturalWidth)).toBe(640);
    await checkPage(page, 'asset-image');

    await page.getByRole('link', { name: 'Library' }).click();
    await page.locator('.card').nth(1).waitFor();
    await expect
      .poll(() => page.locator('.card img[data-loaded="yes"]').count(), { timeout: 20_000 })
      .toBe(2);
    expect(
      await page.locator(`.card[data-asset-id="${image.id}"] .thumb`).getAttribute('data-placeholder'),
    ).toBe('yes');
    await checkPage(page, 'library');
    await context.close();
  }, 240_000);

  it('edits a tag, changes visibility, shares, deletes and restores from the asset page', async () => {
    const { context, page } = await signedInPage(owner);
    await page.goto(`${platform.baseUrl}/console/#/asset/${image.id}`);
    await page.getByLabel('Key').fill('album');
    await page.getByLabel('Value').fill('summer');
    await page.getByRole('button', { name: 'Save tag' }).click();
    await page.locator('[data-tag="album:summer"]').waitFor();
    const read = () =>
      request<Record<string, unknown>>('GET', `${platform.baseUrl}/media/${image.id}`, { token: owner });
    expect((await read()).body.metadata).toMatchObject({ album: 'summer' });

    await page.getByLabel('Set visibility').selectOption('public');
    await page.getByRole('button', { name: 'Save visibility' }).click();
    await page.getByText('Visibility saved.').waitFor();
    expect((await read()).body.visibility).toBe('public');

    // A scheduled end: one before the start is refused with the API's reason and changes nothing; then a window.
    const panel = (title: string) => page.locator(`section[aria-labelledby="${title}-title"]`);
    const alertIn = async (section: ReturnType<typeof panel>) => {
      const alert = section.getByRole('alert');
      await alert.waitFor();
      return alert.textContent();
    };
    await page.getByLabel('Publish at (optional)', { exact: true }).fill('2030-01-02T10:00');
    await page.getByLabel('Unpublish at (optional)').fill('2030-01-01T10:00');
    await page.getByRole('button', { name: 'Save visibility' }).click();
    expect(await alertIn(panel('visibility'))).toContain('unpublishAt');
    expect((await read()).body.publishAt ?? null).toBeNull();
    await page.getByLabel('Unpublish at (optional)').fill('2030-02-01T10:00');
    await page.getByRole('button', { name: 'Save visibility' }).click();
    await panel('visibility').getByText('Visibility saved.').waitFor();
    const scheduled = (await read()).body;
    // The page's zone is UTC (signedInPage), so these local times are these instants.
    expect(Date.parse(String(scheduled.publishAt))).toBe(Date.parse('2030-01-02T10:00:00Z'));
    expect(Date.parse(String(scheduled.unpublishAt))).toBe(Date.parse('2030-02-01T10:00:00Z'));

    // Regions: an unknown code is refused by name; a block list is saved upper-cased.
    await page.getByLabel('Policy').selectOption('block');
    await page.getByLabel('Countries (ISO codes)').fill('de, XX');
    await page.getByRole('button', { name: 'Save regions' }).click();
    expect(await alertIn(panel('regions'))).toContain('XX');
    expect((await read()).body.regions ?? null).toBeNull();
    await page.getByLabel('Countries (ISO codes)').fill('de, fr');
    await page.getByRole('button', { name: 'Save regions' }).click();
    await panel('regions').getByText('Regions saved.').waitFor();
    expect((await read()).body.regions).toEqual({ mode: 'block', countries: ['DE', 'FR'] });

    await page.getByLabel('Principal').fill('user:4199');
    await page.getByLabel('Permission').selectOption('read');
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByText('user:4199 may read').waitFor();
    const acl = await request('GET', `${platform.baseUrl}/media/${image.id}/acl`, { token: owner });
    expect(acl.body.grants).toEqual([{ principal: 'user:4199', permission: 'read' }]);

    await page.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => statusOf(page), { timeout: 30_000 }).toBe('deleted');
    expect((await read()).body.status).toBe('deleted');
    await page.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => statusOf(page), { timeout: 30_000 }).toBe('ready');
    expect((await read()).body.status).toBe('ready');
    await context.close();
  }, 120_000);

  it('shows the live stage and percent of a clip mid-transcode, then follows it to ready', async () => {
    // Long enough to be caught encoding. Once ffmpeg reports a percent, it is stopped (SIGSTOP) so the percent holds
    // still while the page is read, then let go.
    const file = path.join(work, 'long.mp4');
    await clip(file, { width: 640, height: 360, seconds: 40 });
    const bytes = await fs.readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const id = await uploadFile(platform.baseUrl, owner, bytes, 'video/mp4', 'long.mp4');
    const read = () =>
      request<{ status: string; stage: { name: string; percent: number | null } | null }>(
        'GET',
        `${platform.baseUrl}/media/${id}`,
        { token: owner },
      );
    await eventually(
      'the transcode to report a percent',
      read,
      (r) => r.body.stage?.name === 'renditions' && (r.body.stage.percent ?? 0) > 0,
      90_000,
    );
    // The worker's ffmpeg works on the blob's copy, named by its SHA-256.
    const encoders = execFileSync('ps', ['-eo', 'pid=,args='])
      .toString()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(
        ([, command, ...args]) =>
          path.basename(command ?? '') === 'ffmpeg' && args.join(' ').includes(sha256),
      )
      .map(([pid]) => Number(pid));
    expect(encoders.length).toBeGreaterThan(0);
    for (const pid of encoders) process.kill(pid, 'SIGSTOP');
    try {
      // The worker's last heartbeat reaches the server; from then on the percent holds.
      let before: number | null | undefined;
      const held = await eventually(
        'the percent to hold',
        async () => {
          await new Promise((r) => setTimeout(r, 1_500));
          const percent = (await read()).body.stage?.percent;
          const same = percent === before;
          before = percent;
          return same ? percent : undefined;
        },
        (p) => typeof p === 'number' && p > 0 && p < 100,
        30_000,
      );
      const { context, page } = await signedInPage(owner);
      await page.goto(`${platform.baseUrl}/console/#/asset/${id}`);
      const badge = page.locator('article.asset .badge[data-status]').first();
      await expect.poll(() => badge.textContent()).toBe(`processing · renditions ${Math.round(held!)}%`);
      expect(await page.locator('label[for="stage-progress"]').textContent()).toBe('Stage: renditions');
      expect(Number(await page.locator('progress#stage-progress').getAttribute('value'))).toBeCloseTo(
        held!,
        3,
      );
      await checkPage(page, 'asset-processing');
      for (const pid of encoders) process.kill(pid, 'SIGCONT');
      encoders.length = 0;
      // Let go, the page follows the clip on to ready by itself, and the progress bar goes.
      await expect.poll(() => statusOf(page), { timeout: 120_000, interval: 500 }).toBe('ready');
      expect(await page.locator('progress#stage-progress').count()).toBe(0);
      await context.close();
    } finally {
      for (const pid of encoders) process.kill(pid, 'SIGCONT');
    }
  }, 240_000);

  it("shows an audio file's waveform and plays it, and a PDF's first page", async () => {
    const wav = path.join(work, 'tone.wav');
    await tone(wav, 3);
    const audioId = await uploadFile(
      platform.baseUrl,
      owner,
      await fs.readFile(wav),
      'audio/wav',
      'tone.wav',
    );
    const pdfId = await uploadFile(platform.baseUrl, owner, onePagePdf(), 'application/pdf', 'page.pdf');
    await waitForStatus(platform.baseUrl, owner, audioId, ['ready'], 60_000);
    await waitForStatus(platform.baseUrl, owner, pdfId, ['ready'], 60_000);
    const { context, page } = await signedInPage(owner);

    await page.goto(`${platform.baseUrl}/console/#/asset/${audioId}`);
    const waveform = page.locator('img[data-rendition="waveform"]');
    await waveform.waitFor();
    await expect
      .poll(() => waveform.evaluate((i: { naturalWidth: number }) => i.naturalWidth))
      .toBeGreaterThan(0);
    // A drawn waveform, not a blank picture.
    const drawn = await sharp(await waveform.screenshot()).stats();
    expect(Math.max(...drawn.channels.map((c) => c.stdev))).toBeGreaterThan(10);
    const audio = page.locator('audio');
    await expect
      .poll(() => audio.evaluate((a: { duration: number }) => a.duration), { timeout: 10_000 })
      .toBeGreaterThan(2.5);
    await checkPage(page, 'asset-audio');

    await page.goto(`${platform.baseUrl}/console/#/asset/${pdfId}`);
    const firstPage = page.locator('img[data-rendition="page-1"]');
    await firstPage.waitFor();
    await expect
      .poll(() => firstPage.evaluate((i: { naturalWidth: number }) => i.naturalWidth))
      .toBeGreaterThan(0);
    // The page's blue rectangle (100–400 pt across, 192–592 pt down a 612 × 792 pt page) is where it belongs.
    const shot = sharp(await firstPage.screenshot());
    const { width, height } = await shot.metadata();
    const pixel = async (x: number, y: number) =>
      [
        ...(await shot
          .clone()
          .extract({ left: Math.round(x * width!), top: Math.round(y * height!), width: 1, height: 1 })
          .raw()
          .toBuffer()),
      ].slice(0, 3);
    const [r = 0, g = 0, b = 0] = await pixel(250 / 612, 392 / 792);
    expect(b).toBeGreaterThan(200);
    expect(r + g).toBeLessThan(100);
    expect(Math.min(...(await pixel(50 / 612, 50 / 792)))).toBeGreaterThan(200);
    await checkPage(page, 'asset-pdf');
    await context.close();
  }, 120_000);

  it('an operator sees a failed asset with its stage and reason and retries it', async () => {
    const whole = path.join(work, 'whole.mp4');
    await clip(whole, { width: 320, height: 240, seconds: 3, audio: true });
    const bytes = await fs.readFile(whole);
    const broken = await uploadFile(
      platform.baseUrl,
      owner,
      bytes.subarray(0, Math.floor(bytes.length * 0.3)),
      'video/mp4',
      'broken.mp4',
    );
    await waitForStatus(platform.baseUrl, owner, broken, ['failed'], 60_000);

    // An owner has no failures page.
    const mine = await signedInPage(owner);
    expect(await mine.page.getByRole('link', { name: 'Failures' }).count()).toBe(0);
    await mine.context.close();

    const operator = await platform.token('9001', { role: 'operator' });
    const { context, page } = await signedInPage(operator);
    await page.getByRole('link', { name: 'Failures' }).click();
    const row = page.locator(`tr[data-asset-id="${broken}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(3).textContent()).toBe('metadata');
    expect(await row.locator('td.reason').textContent()).toMatch(/^metadata failed: /);
    await checkPage(page, 'failures');
    await row.getByRole('button', { name: /^Retry/ }).click();
    await row.getByText('Retrying').waitFor();
    // The retry ran the stage again (the bytes are still broken, so it fails a second time).
    await eventually(
      'the retry to run',
      () => platform.assets.findById(broken),
      (r) => r?.failure_attempts === 2,
      60_000,
    );
    await context.close();
  }, 120_000);

  it("another owner's asset is not reachable: the page says not found and no bytes are fetched", async () => {
    const other = await platform.token('4102');
    const { context, page } = await signedInPage(other);
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (/\/content|\/origin\/|:\d+\/[dp]\//.test(r.url())) fetched.push(r.url());
    });
    expect(await page.locator('.card').count()).toBe(0);
    await page.goto(`${platform.baseUrl}/console/#/asset/${video.id}`);
    await page.getByRole('heading', { name: 'Asset not found' }).waitFor();
    expect(await page.locator('video, img').count()).toBe(0);
    expect(fetched).toEqual([]);
    await checkPage(page, 'not-found');
    await context.close();
  });

  it('signs in with a pasted token, and refuses a malformed one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${platform.baseUrl}/console/`);
    await page.getByRole('heading', { name: 'Sign in to Assetline' }).waitFor();
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await checkPage(page, 'sign-in');
    await page.getByLabel('Bearer token').fill(owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
    await context.close();
  });

  it('runs no script but its own: an injected inline script or a foreign one is refused, and nothing may frame it', async () => {
    const shell = await fetch(`${platform.baseUrl}/console/`);
    const policy = shell.headers.get('content-security-policy') ?? '';
    expect(policy).toContain(`script-src 'self'`);
    expect(policy).toContain(`frame-ancestors 'none'`);
    // The edge and the bucket are the only other origins it reaches.
    expect(policy).toContain(`connect-src 'self' ${new URL(platform.deliveryBaseUrl).origin}`);

    const { context, page } = await signedInPage(owner);
    // What markup injected through some hole would do: an inline script, and a script from another origin.
    // (A string: the root tsconfig has no DOM types.)
    await page.evaluate(`
      const inline = document.createElement('script');
      inline.textContent = 'window.injected = "ran"';
      document.body.append(inline);
      const remote = document.createElement('script');
      remote.src = ${JSON.stringify(`${platform.deliveryBaseUrl}/evil.js`)};
      document.body.append(remote);`);
    await eventually(
      'both scripts to be refused',
      async () => refused.length,
      (n) => n >= 2,
      5_000,
    );
    expect(await page.evaluate('window.injected')).toBeUndefined();
    expect(refused.splice(0).join('\n')).toMatch(/script-src/);
    await context.close();
  });
});
