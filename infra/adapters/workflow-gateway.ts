import {
  WorkflowFailedError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter, type SignalDefinition } from '@temporalio/common';
import type { assetLifecycle } from '../../workflows/asset-lifecycle';
import {
  accessedSignal,
  AssetStatusAttribute,
  assetStateQuery,
  assetWorkflowId,
  deleteRequestedSignal,
  MimeTypeAttribute,
  OwnerIdAttribute,
  restoreRequestedSignal,
  releaseScheduledSignal,
  retryRequestedSignal,
  uploadCompletedSignal,
  uploadRenewedSignal,
  thumbnailWorkflowId,
  WORKFLOW_TYPES,
  type ThumbnailOutcome,
  type ThumbnailRequest,
  type AssetLifecycleInput,
  type AssetState,
  type CompletionSource,
  type UploadCompleted,
  type ReleaseSchedule,
} from '../../workflows/definitions';

const QUERY_TIMEOUT_MS = 2_000;
// Without a deadline the client retries an unreachable server for about 15 s before giving up; a request should
// get its 503 sooner than that.
const CALL_DEADLINE_MS = 5_000;
const PROGRESS_STAGES = new Set<string>(['verify', 'scan', 'renditions', 'validate']);

/** Temporal did not take a start or signal in time: the caller should come back, not give up. */
export class WorkflowServiceUnavailable extends Error {
  override name = 'WorkflowServiceUnavailable';
}

/**
 * The only door to Temporal for the API and the adapters: start, signal, query. Built once per process; it speaks
 * the workflows' contract (workflows/definitions.ts), never database rows.
 */
export class WorkflowGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Starts a pending asset's workflow, its first task delayed until firstWake (the outbox calls this only once that
   * is near or past: a completion or delete that comes first starts it with signal-with-start). Starting twice is
   * harmless, so the outbox may retry.
   */
  async start(input: AssetLifecycleInput): Promise<void> {
    try {
      await this.withDeadline(() =>
        this.client.workflow.start<typeof assetLifecycle>(WORKFLOW_TYPES.assetLifecycle, {
          ...this.startOptions(input),
          startDelay: delayUntil(firstWake(input)),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw new WorkflowServiceUnavailable(`could not start the asset workflow: ${(err as Error).message}`);
    }
  }

  /** `pending` is the asset's input while its row says pending; false when the workflow has already finished. */
  async completeUpload(
    pending: AssetLifecycleInput,
    source: CompletionSource,
    extra: Omit<UploadCompleted, 'source'> = {},
  ): Promise<boolean> {
    return this.signalPending(pending, uploadCompletedSignal, { source, ...extra });
  }

  /**
   * A pending asset's delete (`pending` given) wakes its workflow at once: a plain signal would wait out the start
   * delay. False when there is no workflow left to tell.
   */
  async delete(assetId: string, reason: string, pending?: AssetLifecycleInput): Promise<boolean> {
    if (pending) return this.signalPending(pending, deleteRequestedSignal, { reason });
    return this.signal(assetId, (h) => h.signal(deleteRequestedSignal, { reason }));
  }

  /**
   * A renewed upload session: the workflow keeps its upload window open until the new expiry. Signal-with-start,
   * so a workflow not started yet (the outbox's) starts with the new expiry, and one asleep in its start delay wakes.
   */
  async renewUpload(pending: AssetLifecycleInput): Promise<boolean> {
    return this.signalPending(pending, uploadRenewedSignal, { expiresAt: pending.uploadExpiresAt! });
  }

  /** The owner changed the visibility or its schedule: the asset's release clock re-arms (false: no workflow left). */
  async scheduleRelease(
    assetId: string,
    schedule: ReleaseSchedule,
    pending?: AssetLifecycleInput,
  ): Promise<boolean> {
    if (pending)
      return this.signalPending({ ...pending, release: schedule }, releaseScheduledSignal, schedule);
    return this.signal(assetId, (h) => h.signal(releaseScheduledSignal, schedule));
  }

  async restore(assetId: string, requestedBy: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(restoreRequestedSignal, { requestedBy }));
  }

  async retry(assetId: string, requestedBy: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(retryRequestedSignal, { requestedBy }));
  }

  /** A read of the asset (its tier may change back); false when its workflow has ended. */
  async accessed(assetId: string, at: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(accessedSignal, { at }));
  }

  /**
   * Starts an event's webhook fan-out. The workflow id is derived from the event, so publishing twice (a retried
   * activity, a repeated API call) starts it once.
   */
  async startWebhookFanout(eventId: string): Promise<void> {
    try {
      await this.client.workflow.start(WORKFLOW_TYPES.webhookFanout, {
        taskQueue: this.taskQueue,
        workflowId: `webhooks-${eventId}`,
        args: [eventId],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /**
   * A frame at a time, made by a short workflow on the media queue (ffmpeg never runs in the API). Requests for the
   * same frame join one workflow (USE_EXISTING); one that waits longer than `waitMs` gets WorkflowServiceUnavailable
   * while the frame is still made, and its retry finds it cached.
   */
  async frameThumbnail(req: ThumbnailRequest, waitMs = 30_000): Promise<ThumbnailOutcome> {
    let handle: WorkflowHandle;
    try {
      handle = await this.withDeadline(() =>
        this.client.workflow.start(WORKFLOW_TYPES.frameThumbnail, {
          taskQueue: this.taskQueue,
          workflowId: thumbnailWorkflowId(req),
          args: [req],
          workflowExecutionTimeout: '5m',
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      );
    } catch (err) {
      throw new WorkflowServiceUnavailable(`could not start the thumbnail: ${(err as Error).message}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WorkflowServiceUnavailable(`the thumbnail took longer than ${waitMs / 1000} s`)),
        waitMs,
      );
    });
    try {
      return (await Promise.race([handle.result(), late])) as ThumbnailOutcome;
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      // The activity's MediaError, under the activity failure, says what was wrong with the media.
      let cause: unknown = err.cause;
      while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
      return { made: false, reason: 'failed', detail: (cause as Error | undefined)?.message ?? err.message };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The live stage, or null when the workflow cannot answer quickly (no worker polling, server away). Long stages
   * report their percent in activity heartbeats, which the server keeps with the pending activity.
   */
  async state(assetId: string): Promise<AssetState | null> {
    const handle = this.client.workflow.getHandle(assetWorkflowId(assetId));
    const state = await this.queryState(handle);
    if (!state || !PROGRESS_STAGES.has(state.stage)) return state;
    try {
      const description = await this.withDeadline(() => handle.describe());
      for (const pending of description.raw.pendingActivities ?? []) {
        const payload = pending.heartbeatDetails?.payloads?.[0];
        if (!payload) continue;
        const details = defaultPayloadConverter.fromPayload<{ percent?: number }>(payload);
        if (typeof details?.percent === 'number') return { ...state, percent: details.percent };
      }
    } catch {
      // progress is a nicety; the stage alone still answers
    }
    return state;
  }

  async ping(): Promise<void> {
    await this.withDeadline(() => this.client.workflowService.getSystemInfo({}));
  }

  /**
   * Signal-with-start: it ends a start delay, and it starts the workflow if the outbox has not yet. A workflow that
   * has finished is not started again (REJECT_DUPLICATE), and the answer is false.
   */
  private async signalPending<T>(
    input: AssetLifecycleInput,
    signal: SignalDefinition<[T]>,
    arg: T,
  ): Promise<boolean> {
    try {
      await this.withDeadline(() =>
        this.client.workflow.signalWithStart<typeof assetLifecycle, [T]>(WORKFLOW_TYPES.assetLifecycle, {
          ...this.startOptions(input),
          signal,
          signalArgs: [arg],
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw new WorkflowServiceUnavailable(`could not signal the asset workflow: ${(err as Error).message}`);
    }
  }

  private startOptions(input: AssetLifecycleInput) {
    return {
      taskQueue: this.taskQueue,
      workflowId: assetWorkflowId(input.assetId),
      args: [input] as [AssetLifecycleInput],
      // An asset has one life: a finished workflow is never started again under its id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: AssetStatusAttribute, value: 'pending' as const },
        { key: OwnerIdAttribute, value: Number(input.ownerId) },
        { key: MimeTypeAttribute, value: input.declaredContentType },
      ],
    };
  }

  private async signal(assetId: string, send: (h: WorkflowHandle) => Promise<void>): Promise<boolean> {
    try {
      await this.withDeadline(() => send(this.client.workflow.getHandle(assetWorkflowId(assetId))));
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw new WorkflowServiceUnavailable(`could not signal the asset workflow: ${(err as Error).message}`);
    }
  }

  private async queryState(handle: WorkflowHandle): Promise<AssetState | null> {
    const query = this.withDeadline(() => handle.query(assetStateQuery));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), QUERY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([query, timeout]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  }
}

/** Whole seconds until `iso`, at least one: an expiry already past still gets a first task, which expires it. */
/** The upload URL's expiry, or sooner a scheduled release's first instant, which the workflow must be awake for. */
/** The first instant a pending asset's workflow has work of its own: its URL's expiry, or a release before it. */
export function firstWake(input: AssetLifecycleInput): string {
  const { release, releaseWarmSeconds = 0 } = input;
  const instants = [Date.parse(input.uploadExpiresAt!)];
  if (release?.publishAt) instants.push(Date.parse(release.publishAt) - releaseWarmSeconds * 1000);
  if (release?.unpublishAt) instants.push(Date.parse(release.unpublishAt));
  return new Date(Math.min(...instants)).toISOString();
}

function delayUntil(iso: string): string {
  return `${Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000))}s`;
}
