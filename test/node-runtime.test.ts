import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../devstack';

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const provisioned = /^NODE_VERSION=(\S+)/m.exec(read('scripts/provision.sh'))?.[1] ?? '';

describe('one supported Node everywhere', () => {
  it('runs these tests on Node 22 or later', () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
  });

  it('declares, provisions, builds and types the same LTS line', () => {
    expect(pkg.engines.node).toBe('>=22');
    // Even majors are the LTS lines.
    expect(major(provisioned)).toBeGreaterThanOrEqual(22);
    expect(major(provisioned) % 2).toBe(0);
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'))?.[1];
    expect(Number(image)).toBe(major(provisioned));
    expect(major(pkg.devDependencies['@types/node']!)).toBe(major(provisioned));
  });

  it('runs npm start, npm test and the benchmark on the provisioned Node', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'test', 'bench', 'test:chaos']) {
      expect(scripts[name], name).toMatch(/bash scripts\/provision\.sh && .*bash scripts\/node-env\.sh /);
    }
    expect(read('.ci/run')).toMatch(/provision\.sh --node-only[^\n]*\nsource scripts\/node-env\.sh/);
  });
});
