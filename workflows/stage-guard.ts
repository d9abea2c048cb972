/**
 * Poison inputs: an input that kills the worker (a native crash or the OOM killer in a decoder) or hangs it is
 * noticed by Temporal only as a timed-out attempt. Retried without limit, like an infrastructure error, it would loop
 * forever and take the worker down each time. Guarded activities therefore hand their timeouts back to the workflow
 * (the server keeps retrying their errors without limit), which counts the lost attempts of each call and, after
 * MAX_LOSSES, files the input as a dead letter and fails the stage with a reason naming the cause.
 *
 * Deterministic: workflow code only.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, log, workflowInfo } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { MediaActivities } from '../activities';
import type { DeadLetter } from '../infra/adapters/dead-letter-repository';
import { MEDIA_STALLED, SCANNER_LOST, type PipelineStage } from './definitions';

export const POISON_GUARD_PATCH = 'poison-guard';
/** Lost attempts of one stage after which its input is taken for poison. */
export const MAX_LOSSES = 3;

/**
 * Added to a guarded activity's retry policy: the server does not retry these timeouts (a worker lost under the
 * attempt, or an attempt hung without heartbeats) but returns them to the workflow; errors it retries as before.
 * The server names timeout failures "TemporalTimeout:" + the timeout type for this list.
 */
export const LOST_ATTEMPT_TYPES = ['TemporalTimeout:Heartbeat', 'TemporalTimeout:StartToClose'];

/**
 * What one failure of an activity means: a lost attempt (the cause, for the reason), or undefined for everything else
 * (bad input already fails the stage; infrastructure errors never get here, the server retries them).
 */
export function lostAttemptCause(err: unknown): string | undefined {
  // A remote activity's failure wraps its cause; a local one's is the cause itself.
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.HEARTBEAT) return 'heartbeat timeout';
    if (cause.timeoutType === TimeoutType.START_TO_CLOSE) return 'start-to-close timeout';
    return undefined;
  }
  if (cause instanceof ApplicationFailure && cause.type === MEDIA_STALLED) return cause.message;
  if (cause instanceof ApplicationFailure && cause.type === SCANNER_LOST)
    return 'clamd gone before its verdict';
  return undefined;
}

/** A dead letter as the workflow files it: the stage is one of the pipeline's. */
export interface PoisonReport extends DeadLetter {
  stage: PipelineStage;
}

/** The input field telling the worker how often this call was lost already: it then runs it alone. */
export interface LostBefore {
  lostBefore?: number;
}

type Activity = (input: never) => Promise<unknown>;

/**
 * Wraps the named activities: a lost attempt runs the activity again, up to MAX_LOSSES; then `quarantine` files the
 * dead letter and the call fails with a non-retryable `failureType` failure naming the stage and the causes, which
 * the pipeline handles like any input failure of that stage. Counting is per call, so an operator's retry of the
 * stage starts from zero.
 */
export function guardActivities<A extends Record<string, Activity>>(
  activities: A,
  opts: {
    assetId: string;
    stages: Partial<Record<keyof A & string, PipelineStage>>;
    failureType: string;
    quarantine: (report: PoisonReport) => Promise<void>;
  },
): A {
  const guarded: Record<string, Activity> = { ...activities };
  for (const [name, stage] of Object.entries(opts.stages) as [keyof A & string, PipelineStage][]) {
    const activity = activities[name] as unknown as (input: object) => Promise<unknown>;
    guarded[name] = (async (input: object) => {
      const losses: { cause: string; at: number }[] = [];
      for (;;) {
        try {
          return await activity(losses.length ? { ...input, lostBefore: losses.length } : input);
        } catch (err) {
          const cause = lostAttemptCause(err);
          if (cause === undefined) throw err;
          losses.push({ cause, at: Date.now() });
          log.warn('attempt lost', { assetId: opts.assetId, stage, cause, losses: losses.length });
          if (losses.length < MAX_LOSSES) continue;
          const ref = input as { sha256?: string; blobKey?: string };
          const report: PoisonReport = {
            assetId: opts.assetId,
            stage,
            cause: summarise(losses.map((l) => l.cause)),
            attempts: losses.length,
            firstSeenAt: new Date(losses[0]!.at).toISOString(),
            lastSeenAt: new Date(losses.at(-1)!.at).toISOString(),
            sha256: ref.sha256 ?? null,
            blobKey: ref.blobKey ?? null,
          };
          await opts.quarantine(report);
          throw ApplicationFailure.create({
            type: opts.failureType,
            nonRetryable: true,
            message: poisonReason(report),
            details: [{ lostAttempts: losses, workflowId: workflowInfo().workflowId }],
          });
        }
      }
    }) as Activity;
  }
  return guarded as A;
}

/** The media stages, where decoders and encoders meet untrusted input. */
export const MEDIA_STAGES: Record<keyof MediaActivities, PipelineStage> = {
  extractMetadata: 'metadata',
  renderRenditions: 'renditions',
  validateRenditions: 'validate',
};

/** The asset workflow's media activities, guarded; their proxy must add LOST_ATTEMPT_TYPES to its retry policy. */
export function guardMedia(
  media: MediaActivities,
  assetId: string,
  failureType: string,
  quarantine: (report: PoisonReport) => Promise<void>,
): MediaActivities {
  return guardActivities(media, { assetId, stages: MEDIA_STAGES, failureType, quarantine });
}

export function poisonReason(report: Pick<PoisonReport, 'attempts' | 'stage' | 'cause'>): string {
  // At the scan it is the scanner (clamd) that the input takes down, not the worker.
  const lost = report.stage === 'scan' ? 'scanner' : 'worker';
  return `${lost} lost ${report.attempts} times at stage ${report.stage} (${report.cause}): input quarantined for inspection`;
}

/** "heartbeat timeout ×2, ffmpeg made no progress for 120 s" */
function summarise(causes: string[]): string {
  const counts = new Map<string, number>();
  for (const c of causes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(', ');
}
