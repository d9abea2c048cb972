import { open } from 'node:fs/promises';

/** How much of an input is searched for the marker: test inputs carry it near the start (a PNG text chunk). */
const SEARCHED_BYTES = 1024 * 1024;

/**
 * The test-only poison trigger (ASSETLINE_TEST_POISON_MARKER, refused by infra/config.ts unless NODE_ENV=test):
 * when the input holds `<marker>:<action>`, `act` runs (it kills this process). Without a marker, nothing is read.
 */
export async function tripTestPoison(
  marker: string | undefined,
  file: string,
  action: 'kill-worker' | 'crash-decoder',
  act: () => void,
): Promise<void> {
  if (!marker) return;
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SEARCHED_BYTES), 0, SEARCHED_BYTES, 0);
    if (buffer.subarray(0, bytesRead).includes(`${marker}:${action}`)) act();
  } finally {
    await handle.close();
  }
}
