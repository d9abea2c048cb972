/**
 * Builds the web console (console/src) into console/dist: content-hashed scripts and stylesheets under assets/,
 * which the API serves as immutable, and index.html, the shell that names them (served no-cache). Two entry points:
 * `main` (the first page) and `upload` (Uppy's dashboard, loaded only on the upload page), so the first page stays
 * small. Run by `npm start`, `npm test` and `.ci/run` through `npm run build:console`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'console', 'dist');
const assets = path.join(dist, 'assets');

/** The files an entry point needs, as the shell and the lazy loader name them (relative to /console/). */
export interface ConsoleManifest {
  /** `static`: the chunks the entry imports statically (preloaded by the shell; together, the first page). */
  main: { js: string; css: string[]; static: string[] };
  upload: { js: string; css: string[]; static: string[] };
}

export async function buildConsole(): Promise<ConsoleManifest> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'console/src/main.tsx', upload: 'console/src/upload-dashboard.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16'],
    outdir: assets,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const outputs = result.metafile.outputs;
  const rel = (f: string) => path.relative(dist, path.join(root, f));
  /** An output and every chunk it imports statically, transitively (dynamic imports load later). */
  const staticClosure = (file: string, seen = new Set<string>()): Set<string> => {
    for (const i of outputs[file]!.imports) {
      if (i.kind !== 'import-statement' || seen.has(i.path)) continue;
      seen.add(i.path);
      staticClosure(i.path, seen);
    }
    return seen;
  };
  const entry = (name: string) => {
    const [file, out] = Object.entries(outputs).find(
      ([, o]) => o.entryPoint && path.basename(o.entryPoint) === name,
    )!;
    return {
      js: rel(file),
      css: out.cssBundle ? [rel(out.cssBundle)] : [],
      static: [...staticClosure(file)].map(rel),
    };
  };
  const manifest: ConsoleManifest = { main: entry('main.tsx'), upload: entry('upload-dashboard.ts') };
  // Files of earlier builds go only now: a running API's shell may name them until it is restarted.
  const current = new Set(Object.keys(outputs).map((f) => path.basename(f)));
  for (const old of await fs.readdir(assets)) if (!current.has(old)) await fs.rm(path.join(assets, old));
  await fs.writeFile(path.join(dist, 'index.html'), shell(manifest));
  await fs.writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** `<!--config-->` is where the API puts the console's settings (api/console-static.ts). */
function shell(m: ConsoleManifest): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Assetline console</title>
<link rel="icon" href="data:,">
${m.main.css.map((c) => `<link rel="stylesheet" href="/console/${c}">`).join('\n')}
<script type="application/json" id="console-config"><!--config--></script>
<script type="application/json" id="console-manifest">${JSON.stringify(m)}</script>
${m.main.static.map((c) => `<link rel="modulepreload" href="/console/${c}">`).join('\n')}
<script type="module" src="/console/${m.main.js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Assetline console needs JavaScript.</noscript>
</body>
</html>
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = await buildConsole();
  console.log(`console built: ${[m.main.js, ...m.main.css, m.upload.js, ...m.upload.css].join(', ')}`);
}
