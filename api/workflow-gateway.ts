import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter, type SignalDefinition } from '@temporalio/common';
import type { assetLifecycle } from '../workflows/asset-lifecycle';
import {
  ASSET_WORKFLOW_TYPE,
  AssetStatusAttribute,
  assetStateQuery,
  assetWorkflowId,
  deleteRequestedSignal,
  MimeTypeAttribute,
  OwnerIdAttribute,
  restoreRequestedSignal,
  retryRequestedSignal,
  uploadCompletedSignal,
  type AssetLifecycleInput,
  type AssetState,
  type CompletionSource,
} from '../workflows/definitions';
import { unavailable } from './problem';
import { lifecycleInput, type LifecycleSettings, type PendingAsset } from './lifecycle-input';

const QUERY_TIMEOUT_MS = 2_000;
// Without a deadline the client retries an unreachable server for about 15 s before giving up; a request should
// get its 503 sooner than that.
const CALL_DEADLINE_MS = 5_000;
const PROGRESS_STAGES = new Set<string>(['verify', 'scan', 'renditions', 'validate']);

/** The API's only door to Temporal: start, signal, query. Temporal being down becomes a 503, never a 500. */
export class WorkflowGateway {
  constructor(
    private readonly client: Client,
    private readonly settings: LifecycleSettings & { taskQueue: string },
  ) {}

  /**
   * Starts a pending asset's workflow with its first task delayed until the upload URL expires: while the client
   * uploads, the workflow costs Temporal and the workers nothing, and a completion or delete (signal-with-start)
   * ends the delay. Starting twice is harmless, so the outbox may retry.
   */
  async start(asset: PendingAsset): Promise<void> {
    const input = lifecycleInput(asset, this.settings);
    try {
      await this.withDeadline(() =>
        this.client.workflow.start<typeof assetLifecycle>(ASSET_WORKFLOW_TYPE, {
          ...this.startOptions(input),
          startDelay: delayUntil(input.uploadExpiresAt!),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw unavailable(`could not start the asset workflow: ${(err as Error).message}`);
    }
  }

  /** false when the workflow has already finished: completing twice is harmless. */
  async completeUpload(asset: PendingAsset, source: CompletionSource): Promise<boolean> {
    return this.signalPending(asset, uploadCompletedSignal, { source });
  }

  /** A pending asset's delete wakes its workflow at once (a plain signal would wait out the start delay). */
  async delete(asset: PendingAsset & { status: string }, reason: string): Promise<boolean> {
    if (asset.status === 'pending') return this.signalPending(asset, deleteRequestedSignal, { reason });
    return this.signal(asset.asset_id, (h) => h.signal(deleteRequestedSignal, { reason }));
  }

  /**
   * Signal-with-start: it ends a start delay, and it starts the workflow if the outbox has not yet. A workflow that
   * has finished is not started again (REJECT_DUPLICATE), and the answer is false.
   */
  private async signalPending<T>(
    asset: PendingAsset,
    signal: SignalDefinition<[T]>,
    arg: T,
  ): Promise<boolean> {
    const input = lifecycleInput(asset, this.settings);
    try {
      await this.withDeadline(() =>
        this.client.workflow.signalWithStart<typeof assetLifecycle, [T]>(ASSET_WORKFLOW_TYPE, {
          ...this.startOptions(input),
          signal,
          signalArgs: [arg],
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw unavailable(`could not signal the asset workflow: ${(err as Error).message}`);
    }
  }

  private startOptions(input: AssetLifecycleInput) {
    return {
      taskQueue: this.settings.taskQueue,
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

  async restore(assetId: string, requestedBy: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(restoreRequestedSignal, { requestedBy }));
  }

  async retry(assetId: string, requestedBy: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(retryRequestedSignal, { requestedBy }));
  }

  private async signal(assetId: string, send: (h: WorkflowHandle) => Promise<void>): Promise<boolean> {
    try {
      await this.withDeadline(() => send(this.client.workflow.getHandle(assetWorkflowId(assetId))));
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw unavailable(`could not signal the asset workflow: ${(err as Error).message}`);
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

  async ping(): Promise<void> {
    await this.withDeadline(() => this.client.workflowService.getSystemInfo({}));
  }

  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  }
}

/** Whole seconds until `iso`, at least one: an expiry already past still gets a first task, which expires it. */
function delayUntil(iso: string): string {
  return `${Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000))}s`;
}
