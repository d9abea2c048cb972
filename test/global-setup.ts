import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { dynamicConfigArgs, startPostgres, startVersitygw, toolPath } from '../devstack';
import { bundleWorkflows } from '../worker/bundle-workflows';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';
import { buildConsole } from '../scripts/build-console';

export interface TestStackInfo {
  databaseUrl: string;
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  temporalAddress: string;
  workflowBundlePath: string;
  tmpDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStackInfo;
  }
}

/**
 * One set of real servers for the whole run: Postgres, versitygw and the Temporal dev server. Each test file gets
 * its own database, bucket and task queue, so files run in parallel without seeing each other.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new Error(
      `Node ${process.version} is past its end of life; the project runs on Node >= 22. ` +
        'Run `bash scripts/provision.sh` (it fetches one into .cache/node/), then `npm test` or ' +
        '`source scripts/node-env.sh` before npx vitest.',
    );
  }
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-test-'));
  await fs.chmod(tmpDir, 0o755);
  const s3AccessKey = 'assetline-test';
  const s3SecretKey = 'assetline-test-secret-key';

  // The web console the API serves at /console (test/console*.test.ts, npm start's test).
  await buildConsole();
  const [postgres, s3, temporal, workflowBundlePath] = await Promise.all([
    startPostgres({ dataDir: path.join(tmpDir, 'pg') }),
    startVersitygw({
      dataDir: path.join(tmpDir, 's3'),
      accessKey: s3AccessKey,
      secretKey: s3SecretKey,
      buckets: [],
    }),
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: toolPath('temporal') },
        searchAttributes: [...SEARCH_ATTRIBUTES],
        extraArgs: ['--log-level', 'error', ...dynamicConfigArgs()],
      },
    }),
    bundleWorkflows(path.join(tmpDir, 'workflow-bundle.js')),
  ]);

  project.provide('stack', {
    databaseUrl: postgres.url,
    s3Endpoint: s3.endpoint,
    s3AccessKey,
    s3SecretKey,
    temporalAddress: temporal.address,
    workflowBundlePath,
    tmpDir,
  });

  return async () => {
    await Promise.allSettled([temporal.teardown(), s3.stop(), postgres.stop()]);
    // KEEP_TEST_TMP=1 keeps the servers' and workers' logs for a look after a failure.
    if (process.env.KEEP_TEST_TMP === '1') console.log(`test data kept in ${tmpDir}`);
    else await fs.rm(tmpDir, { recursive: true, force: true });
  };
}
