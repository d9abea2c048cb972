import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
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

const QUERY_TIMEOUT_MS = 2_000;
// Without a deadline the client retries an unreachable server for about 15 s before giving up; a request should
// get its 503 sooner than that.
const CALL_DEADLINE_MS = 5_000;
const PROGRESS_STAGES = new Set<string>(['verify', 'scan', 'renditions', 'validate']);

/** The API's only door to Temporal: start, signal, query. Temporal being down becomes a 503, never a 500. */
export class WorkflowGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async start(input: AssetLifecycleInput): Promise<void> {
    try {
      await this.withDeadline(() =>
        this.client.workflow.start<typeof assetLifecycle>(ASSET_WORKFLOW_TYPE, {
          taskQueue: this.taskQueue,
          workflowId: assetWorkflowId(input.assetId),
          args: [input],
          typedSearchAttributes: [
            { key: AssetStatusAttribute, value: 'pending' },
            { key: OwnerIdAttribute, value: Number(input.ownerId) },
            { key: MimeTypeAttribute, value: input.declaredContentType },
          ],
        }),
      );
    } catch (err) {
      throw unavailable(`could not start the asset workflow: ${(err as Error).message}`);
    }
  }

  /** false when the workflow has already finished: completing twice is harmless. */
  async completeUpload(assetId: string, source: CompletionSource): Promise<boolean> {
    try {
      await this.withDeadline(() =>
        this.client.workflow.getHandle(assetWorkflowId(assetId)).signal(uploadCompletedSignal, { source }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw unavailable(`could not signal the asset workflow: ${(err as Error).message}`);
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

  async delete(assetId: string, reason: string): Promise<boolean> {
    return this.signal(assetId, (h) => h.signal(deleteRequestedSignal, { reason }));
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
