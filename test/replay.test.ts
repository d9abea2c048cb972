import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';

const HISTORIES_DIR = path.join(import.meta.dirname, 'fixtures', 'histories');

/**
 * Histories (binary protobuf) recorded from earlier versions of the workflow (RECORD_HISTORIES=1 npx vitest run
 * test/workflow-lifecycle.test.ts) replay against the code as it is now. A change that would break running assets
 * fails here; wrap it in patched() instead.
 */
describe('workflow replay of recorded histories', async () => {
  const files = (await fs.readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.binpb')).sort();

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
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
