/**
 * The chaos suite runs in every `npm test` at a reduced size and in full with `npm run test:chaos`
 * (CHAOS_FULL=1): outages of 30 s instead of a few, 1,000 upload sessions instead of 100, a 1 GB oversize upload.
 */
export const CHAOS_FULL = process.env.CHAOS_FULL === '1';

export function scaled<T>(reduced: T, full: T): T {
  return CHAOS_FULL ? full : reduced;
}
