import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { HISTORIES_DIR } from './helpers/histories';

/**
 * Histories (binary protobuf) recorded from earlier versions of the workflows, one directory per version
 * (RECORD_HISTORIES=v3-phases npx vitest run test/workflow-lifecycle.test.ts; the orphan sweep's from
 * test/orphan-sweep*.test.ts, v7 holding runs before and after it swept the replica), replay against the code as
 * it is now. A change that would break running assets fails here; wrap it in patched() instead.
 */
describe('workflow replay of recorded histories', async () => {
  const files = (await fs.readdir(HISTORIES_DIR, { recursive: true }))
    .filter((f) => f.endsWith('.binpb'))
    .sort();
  const versions = new Set(files.map((f) => path.dirname(f)));

  it('has recorded histories of each workflow version to replay', () => {
    expect([...versions].sort()).toEqual([
      'v1-remote-bookkeeping',
      // Sorted as strings: v10 comes after v1.
      'v10-gates',
      'v2-local-bookkeeping',
      'v3-phases',
      'v3-poison-guard',
      'v4-phases-poison-guard',
      'v5-release-clock',
      'v6-reads-by-their-time',
      'v7-orphan-sweep',
      'v8-stills-checked-in-workflow',
      'v9-local-small-io',
    ]);
    for (const version of versions) {
      expect(files.filter((f) => path.dirname(f) === version).length).toBeGreaterThanOrEqual(5);
    }
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = proto.temporal.api.history.v1.History.decode(
      await fs.readFile(path.join(HISTORIES_DIR, file)),
    );
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('stack').workflowBundlePath } },
        history,
        file,
      ),
    ).resolves.toBeUndefined();
  });
});
