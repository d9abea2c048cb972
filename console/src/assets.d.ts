/** esbuild bundles CSS imports into the entry's stylesheet (scripts/build-console.ts). */
declare module '*.css';
