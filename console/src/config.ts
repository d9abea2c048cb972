/** What the API puts into the shell (api/console-static.ts) and what the build names (scripts/build-console.ts). */
export interface ConsoleConfig {
  temporalUiUrl: string | null;
  temporalNamespace: string;
}

function readJson<T>(id: string, fallback: T): T {
  try {
    return { ...fallback, ...(JSON.parse(document.getElementById(id)?.textContent ?? '') as T) };
  } catch {
    return fallback;
  }
}

export const config = readJson<ConsoleConfig>('console-config', {
  temporalUiUrl: null,
  temporalNamespace: 'default',
});
export const manifest = readJson<{ upload?: { js: string; css: string[] } }>('console-manifest', {});

/** The asset's run in the Temporal UI: each asset is the workflow asset-<assetId>. */
export const temporalRunUrl = (assetId: string): string | null =>
  config.temporalUiUrl
    ? `${config.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/asset-${assetId}`
    : null;
