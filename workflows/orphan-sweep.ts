import { continueAsNew, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { IoActivities } from '../activities';
import type { ListCursor } from '../infra/adapters/object-store';
import { REPLICA_SWEPT_PREFIXES, SWEPT_PREFIXES } from '../domain/object-keys';

export interface SweepReport {
  orphanObjectsDeleted: number;
  staleMultipartAborted: number;
  /** Ready blobs whose object was gone; their assets are now failed. */
  missingObjects: number;
  /** Objects, multipart uploads and blob records looked at. */
  scanned: number;
}

type Phase = 'objects' | 'replica-objects' | 'multipart' | 'records';

interface Position {
  phase: Phase;
  prefixIndex: number;
  cursor: ListCursor;
}

export interface OrphanSweepInput {
  /** Objects younger than this are left alone (ORPHAN_GRACE_SECONDS). */
  graceSeconds: number;
  /** Multipart uploads initiated longer ago than this are aborted (upload TTL + grace). */
  multipartOlderThanSeconds: number;
  pageSize?: number;
  /** Carried over continue-as-new: where the previous run stopped, what it found, and the sweep's id. */
  resume?: { position: Position; report: SweepReport; sweepId: string };
}

const sweep = proxyActivities<IoActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Pages per run before continuing as new, so a large bucket never grows one history without bound. */
const PAGES_PER_RUN = 200;

/**
 * Removes what no row accounts for and fails what lost its bytes: orphan objects under the platform's prefixes
 * (in the replica bucket too), stale multipart uploads, and ready blobs whose object is gone. Each page is one activity, so nothing holds the
 * whole bucket; the position and the report travel across continue-as-new.
 */
export async function orphanSweep(input: OrphanSweepInput): Promise<SweepReport> {
  const pageSize = input.pageSize ?? 1000;
  const sweepId = input.resume?.sweepId ?? workflowInfo().workflowId;
  const report: SweepReport = input.resume?.report ?? {
    orphanObjectsDeleted: 0,
    staleMultipartAborted: 0,
    missingObjects: 0,
    scanned: 0,
  };
  let position: Position = input.resume?.position ?? { phase: 'objects', prefixIndex: 0, cursor: null };

  for (let pages = 0; ; pages += 1) {
    if (pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof orphanSweep>({ ...input, resume: { position, report, sweepId } });
    }
    const next = await sweepPage(position, input, pageSize, sweepId, report);
    if (!next) break;
    position = next;
  }
  log.info('orphan sweep finished', { ...report });
  return report;
}

/** Sweeps the page at the position, adds to the report, and returns where to go next (null: done). */
async function sweepPage(
  at: Position,
  input: OrphanSweepInput,
  pageSize: number,
  sweepId: string,
  report: SweepReport,
): Promise<Position | null> {
  if (at.phase === 'objects') {
    const prefix = SWEPT_PREFIXES[at.prefixIndex]!;
    const page = await sweep.sweepOrphanObjects({
      prefix,
      cursor: at.cursor,
      graceSeconds: input.graceSeconds,
      pageSize,
    });
    report.scanned += page.scanned;
    report.orphanObjectsDeleted += page.deleted;
    if (page.next) return { ...at, cursor: page.next };
    if (at.prefixIndex + 1 < SWEPT_PREFIXES.length)
      return { phase: 'objects', prefixIndex: at.prefixIndex + 1, cursor: null };
    // Sweeps that began before the replica was swept go on as they were recorded.
    return patched('sweep-replica')
      ? { phase: 'replica-objects', prefixIndex: 0, cursor: null }
      : { phase: 'multipart', prefixIndex: 0, cursor: null };
  }
  if (at.phase === 'replica-objects') {
    const page = await sweep.sweepOrphanObjects({
      prefix: REPLICA_SWEPT_PREFIXES[at.prefixIndex]!,
      cursor: at.cursor,
      graceSeconds: input.graceSeconds,
      pageSize,
      store: 'replica',
    });
    report.scanned += page.scanned;
    report.orphanObjectsDeleted += page.deleted;
    if (page.next) return { ...at, cursor: page.next };
    return at.prefixIndex + 1 < REPLICA_SWEPT_PREFIXES.length
      ? { phase: 'replica-objects', prefixIndex: at.prefixIndex + 1, cursor: null }
      : { phase: 'multipart', prefixIndex: 0, cursor: null };
  }
  if (at.phase === 'multipart') {
    const page = await sweep.abortStaleMultipart({
      cursor: at.cursor,
      olderThanSeconds: input.multipartOlderThanSeconds,
      pageSize,
    });
    report.scanned += page.scanned;
    report.staleMultipartAborted += page.aborted;
    return page.next ? { ...at, cursor: page.next } : { phase: 'records', prefixIndex: 0, cursor: null };
  }
  const page = await sweep.failMissingBlobs({ sweepId, cursor: at.cursor, pageSize });
  report.scanned += page.scanned;
  report.missingObjects += page.missing.length;
  if (page.missing.length > 0) log.warn('stored objects missing', { keys: page.missing });
  return page.next ? { ...at, cursor: page.next } : null;
}
