import { patched } from '@temporalio/workflow';

/**
 * The asset workflow's patches, passed with one marker by a run that starts on this code.
 *
 * patched() records a marker, and Temporal's Core an upsert of TemporalChangeVersion, for each patch a run passes:
 * six or seven of each per photo, a sixth of its history and the server work that goes with it. Every one of them is true
 * for a run that starts today, so such a run records CURRENT_GATES once instead, and gate() answers the patches it
 * covers without a marker of their own. A run recorded before has no CURRENT_GATES marker and asks each patch at
 * its own point, exactly as it was recorded.
 *
 * Only the patches listed here are covered, and once landed the list is closed: a run started on that code took
 * the old branch of any later patch. A later patch goes through gate() too and records its own marker; a later
 * bundle of gates gets its own marker and its own list.
 */
const CURRENT_GATES = 'gates-2026-12';
const COVERED: ReadonlySet<string> = new Set([
  'release-clock',
  'local-bookkeeping',
  'local-small-io',
  'poison-guard',
  'stills-checked-in-workflow',
  'tiering',
  'reads-by-their-time',
  'scan-guard',
]);

// Module state is the run's own: the SDK gives each workflow run its own instance of the workflow's modules.
let startedOnCurrentCode = false;

/**
 * The first thing an asset workflow run does. Decided once: patched() turns true when a replay reaches live
 * execution, and a run recorded without the marker must keep asking each patch for the rest of its life.
 */
export function openGates(): void {
  startedOnCurrentCode = patched(CURRENT_GATES);
}

/** patched(patchId), without a marker of its own in a run that started on this code and whose bundle covers it. */
export function gate(patchId: string): boolean {
  return (startedOnCurrentCode && COVERED.has(patchId)) || patched(patchId);
}
