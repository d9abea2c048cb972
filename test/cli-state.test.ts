import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionState } from '../client/cli/state';

/** The CLI's resume state: CLIs running side by side (two terminals, a script's parallel jobs) share the folder. */
describe('assetline session state', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assetline-state-'));
    dirs.push(dir);
    return dir;
  };
  const session = (n: number) => ({
    assetId: `asset-${n}`,
    url: 'http://x',
    startedAt: new Date(0).toISOString(),
  });

  it('two processes saving at once keep every session (none overwrites the other)', async () => {
    const env = { ASSETLINE_STATE_DIR: await folder() };
    const [a, b] = [new SessionState(env), new SessionState(env)];
    const keys = Array.from({ length: 20 }, (_, i) => SessionState.key(`/f${i}`, i, 1000 + i));
    await Promise.all(keys.map((k, i) => (i % 2 ? a : b).set(k, session(i))));
    for (const [i, k] of keys.entries()) expect(await new SessionState(env).get(k)).toMatchObject(session(i));
    expect(await readdir(a.dir)).toHaveLength(20);
  });

  it('adds part URLs to a session and forgets it once done; another file changed since is a new upload', async () => {
    const env = { ASSETLINE_STATE_DIR: await folder() };
    const state = new SessionState(env);
    const key = SessionState.key('/movie.mov', 10, 5);
    await state.set(key, session(1));
    await state.addPartUrls(key, [{ partNumber: 2, url: 'u2' }]);
    await state.addPartUrls(key, [
      { partNumber: 2, url: 'u2b' },
      { partNumber: 3, url: 'u3' },
    ]);
    expect((await state.get(key))?.partUrls).toEqual([
      { partNumber: 2, url: 'u2b' },
      { partNumber: 3, url: 'u3' },
    ]);
    expect(await state.get(SessionState.key('/movie.mov', 10, 6))).toBeUndefined();
    await state.set(key, undefined);
    expect(await state.get(key)).toBeUndefined();
    expect(await readdir(state.dir)).toEqual([]);
  });
});
