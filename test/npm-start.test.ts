import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { jwtVerify } from 'jose';
import { freePort, repoRoot } from '../devstack';
import { configVariables } from '../infra/config';
import { signDevToken } from '../devstack/dev-token';
import { uniqueName } from './helpers/stack';

const run = promisify(execFile);
const JWT_SECRET = 'npm-start-test-secret-of-at-least-32-chars';

/** The environment without any Assetline variable of the machine running the tests, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const { name } of configVariables()) delete env[name];
  return { ...env, ...extra };
}

function startScript(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  return { child, output: () => output };
}

/** Every process below `pid`, from /proc (the servers run in process groups of their own, still its children). */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const p = pending.pop()!;
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const kids = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(/\s+/);
        for (const kid of kids.filter(Boolean).map(Number)) {
          found.push(kid);
          pending.push(kid);
        }
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return found;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`);

/** The indented lines under the line starting with `heading`, up to the next blank line, de-indented. */
function block(output: string, heading: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no "${heading}" in:\n${output}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines
    .slice(start + 1, end)
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n');
}

describe('npm start (scripts/start.ts)', () => {
  const started: ChildProcess[] = [];
  // After a failure: Ctrl-C as a user would, then SIGKILL whatever is left, servers included (they run in process
  // groups of their own, which a SIGKILL of the script would orphan).
  afterAll(async () => {
    for (const child of started.filter((c) => c.exitCode === null && c.signalCode === null)) {
      const left = descendants(child.pid!);
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 30_000))]);
      child.kill('SIGKILL');
      for (const pid of left.filter(alive)) {
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // not a group leader, or gone already
          }
        }
      }
    }
  }, 60_000);

  it('runs the whole platform; its printed steps take an image to ready with scan clean; Ctrl-C stops it all', async () => {
    const t0 = Date.now();
    const dataDir = path.join(inject('stack').tmpDir, uniqueName('npm-start'));
    const workDir = path.join(dataDir, 'client');
    fs.mkdirSync(workDir, { recursive: true });
    const apiPort = await freePort();
    const workerHealthPort = await freePort();
    const env = cleanEnv({
      ASSETLINE_DATA_DIR: dataDir,
      PORT: String(apiPort),
      ASSETLINE_POSTGRES_PORT: String(await freePort()),
      ASSETLINE_S3_PORT: String(await freePort()),
      ASSETLINE_TEMPORAL_PORT: String(await freePort()),
      ASSETLINE_TEMPORAL_UI_PORT: String(await freePort()),
      ASSETLINE_DELIVERY_PORT: String(await freePort()),
      ASSETLINE_CLAMD_PORT: String(await freePort()),
      ASSETLINE_REDIS_PORT: String(await freePort()),
      // Documented variables npm start must pass on rather than replace.
      AUTH_JWT_SECRET: JWT_SECRET,
      MAX_UPLOAD_BYTES: '5000000',
      MEDIA_CONCURRENCY: '1',
      WORKER_HEALTH_ADDRESS: `127.0.0.1:${workerHealthPort}`,
    });
    const { child, output } = startScript(env);
    started.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // Up: the instructions end with the Ctrl-C line.
    const up = await Promise.race([
      (async () => {
        while (!output().includes('Ctrl-C stops everything')) await new Promise((r) => setTimeout(r, 200));
        return true;
      })(),
      exited.then(() => false),
    ]);
    expect(up, output()).toBe(true);
    const startSeconds = (Date.now() - t0) / 1000;
    const printed = output();
    expect(printed).toContain(`http://127.0.0.1:${apiPort}`);

    // The printed token is signed with the AUTH_JWT_SECRET it was given, and the API accepts one we sign with it.
    const token = /export TOKEN=(\S+)/.exec(printed)?.[1];
    expect(token).toBeDefined();
    await expect(jwtVerify(token!, new TextEncoder().encode(JWT_SECRET))).resolves.toBeTruthy();
    const ours = await signDevToken(JWT_SECRET, { sub: '2' }, '5m');
    expect(
      (await fetch(`http://127.0.0.1:${apiPort}/media`, { headers: { authorization: `Bearer ${ours}` } }))
        .status,
    ).toBe(200);
    // The console link signs the same owner in; the API serves the console with the embedded Temporal UI's address.
    const consoleLink = block(printed, 'The web console').trim();
    expect(consoleLink).toBe(`http://127.0.0.1:${apiPort}/console/#token=${token}`);
    const consolePage = await fetch(consoleLink.split('#')[0]!);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain(
      `"temporalUiUrl":"http://127.0.0.1:${env.ASSETLINE_TEMPORAL_UI_PORT}"`,
    );

    // ... and MAX_UPLOAD_BYTES reached the API.
    const tooBig = await fetch(`http://127.0.0.1:${apiPort}/media/upload-url`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ours}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'big.jpg', contentType: 'image/jpeg', sizeBytes: 6_000_000 }),
    });
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toContain('MAX_UPLOAD_BYTES (5000000)');

    // ... and WORKER_HEALTH_ADDRESS the worker.
    expect((await fetch(`http://127.0.0.1:${workerHealthPort}/readyz`)).status).toBe(200);

    // The printed upload steps, as printed, on a generated JPEG.
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a7' } })
      .jpeg()
      .toFile(path.join(workDir, 'photo.jpg'));
    const shell = (script: string, extra: Record<string, string> = {}) =>
      run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: workDir,
        env: { ...process.env, TOKEN: token!, ...extra },
      });
    const cli = block(printed, 'The assetline CLI');
    const upload = await shell(`${cli}\n${block(printed, 'Upload files or folders')} --json`);
    const uploaded = JSON.parse(upload.stdout.trim().split('\n').at(-1)!) as {
      assetId: string;
      status: string;
    };
    expect(uploaded.status, upload.stdout + upload.stderr).toBe('ready');
    const id = uploaded.assetId;
    const record = (await (
      await fetch(`http://127.0.0.1:${apiPort}/media/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { scan: unknown; renditions: { name: string }[] };
    expect(record.scan).toEqual({ status: 'clean', signature: null });
    expect(record.renditions.map((r) => r.name)).toContain('thumb-256');

    const listed = await shell(`${cli}\n${block(printed, 'Then list').replace('<assetId>', id)}`);
    expect(listed.stdout).toContain(id);
    const thumb = fs.readFileSync(path.join(workDir, 'thumb.webp'));
    expect(thumb.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(thumb.subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect((await sharp(thumb).metadata()).width).toBeLessThanOrEqual(256);

    // Ctrl-C: everything it started goes, and it exits 0.
    const children = descendants(child.pid!);
    expect(children.length).toBeGreaterThanOrEqual(8); // 6 servers, the worker, the API (and their children)
    const t1 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stopSeconds = (Date.now() - t1) / 1000;
    const stillAlive = async () => {
      for (let i = 0; i < 50 && children.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
      return children.filter(alive);
    };
    expect(await stillAlive()).toEqual([]);
    console.log(
      `npm start: up in ${startSeconds.toFixed(1)} s, stopped in ${stopSeconds.toFixed(1)} s, ` +
        `whole test ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 180_000);

  it('refuses a wrong value of a documented variable before starting anything', async () => {
    const dataDir = path.join(inject('stack').tmpDir, uniqueName('npm-start-bad'));
    const { child, output } = startScript(
      cleanEnv({ ASSETLINE_DATA_DIR: dataDir, CLAMD_PORT: 'not-a-port', DELIVERY_SIGNING_SECRET: 'short' }),
    );
    started.push(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(78);
    expect(output()).toMatch(/CLAMD_PORT/);
    expect(output()).toMatch(/DELIVERY_SIGNING_SECRET must be at least 16 characters/);
    expect(fs.existsSync(path.join(dataDir, 'postgres'))).toBe(false);
  });
});
