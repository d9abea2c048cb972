import type { ObjectStore } from '../infra/adapters/object-store';
import { keepBeating } from './heartbeat';

/** Removes whatever a client left at an upload key: the object and any unfinished multipart upload. */
export function discardUploadActivity(deps: { store: ObjectStore }) {
  return async function discardUpload(input: { objectKey: string }): Promise<{ abortedMultipart: number }> {
    return keepBeating(async () => {
      const abortedMultipart = await deps.store.abortMultipartUploads(input.objectKey);
      await deps.store.delete(input.objectKey);
      return { abortedMultipart };
    });
  };
}
