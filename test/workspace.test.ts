import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renditionAttemptPrefix } from '../domain/object-keys';
import { LocalWorkspace } from '../infra/adapters/workspace';

/**
 * A render keeps its outputs for the validation that follows on this worker. When Temporal never recorded a render's
 * completion (its server restarted under it), the retry renders again under another prefix and validation reads
 * that one: the blob's last stage removes what the lost attempt kept, and nothing of another blob.
 */
describe('outputs kept for validation', () => {
  let root: string;
  let workspace: LocalWorkspace;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-workspace-'));
    workspace = new LocalWorkspace(root);
  });
  afterAll(async () => fs.rm(root, { recursive: true, force: true }));

  async function rendered(prefix: string): Promise<void> {
    const dir = await workspace.scratch();
    await fs.mkdir(path.join(dir, 'hls'), { recursive: true });
    await fs.writeFile(path.join(dir, 'hls', 'master.m3u8'), prefix);
    await workspace.keepOutputs(dir, prefix);
  }

  it("drops the blob's unclaimed attempts with its source, and keeps another blob's outputs", async () => {
    const [sha, other] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const lost = renditionAttemptPrefix(sha, randomUUID());
    const validated = renditionAttemptPrefix(sha, randomUUID());
    const another = renditionAttemptPrefix(other, randomUUID());
    for (const prefix of [lost, validated, another]) await rendered(prefix);

    // Validation claims and releases its own attempt's outputs, as validate-renditions does.
    const kept = await workspace.keptOutputs(validated);
    expect(await fs.readFile(path.join(kept!, 'hls', 'master.m3u8'), 'utf8')).toBe(validated);
    await workspace.release(kept!);
    expect(await workspace.keptOutputs(lost)).toBeDefined();

    await workspace.dropSource(sha);
    expect(await workspace.keptOutputs(lost)).toBeUndefined();
    expect(await workspace.keptOutputs(another)).toBeDefined();
    expect(await fs.readdir(path.join(root, 'scratch'))).toHaveLength(1);
  });
});
