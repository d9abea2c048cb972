import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../devstack';

const run = promisify(execFile);

describe('the hashing thread and process exit', () => {
  it('keeps a process alive until its digest arrives, and not a moment after', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetline-hash-exit-'));
    const script = path.join(dir, 'hash-then-end.mts');
    // Nothing but the hash keeps this process alive: it must print the digest, then end by itself.
    fs.writeFileSync(
      script,
      `import { ThreadedSha256 } from ${JSON.stringify(path.join(repoRoot, 'activities/hashing/hash-thread.ts'))};
const hash = new ThreadedSha256();
hash.space().write('assetline', 'latin1');
hash.commit(9);
console.log(await hash.digest());
`,
    );
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
        cwd: repoRoot,
        timeout: 30_000,
        killSignal: 'SIGKILL',
      });
      expect(stdout.trim()).toBe(createHash('sha256').update('assetline').digest('hex'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
