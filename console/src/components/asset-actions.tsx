import { must, type Api, type Asset } from '../api';
import { useFormStatus } from './form-status';

/** Delete (to the trash, or cancel while processing) and restore from the trash. */
export function AssetActions({
  api,
  asset,
  onChange,
}: {
  api: Api;
  asset: Asset;
  onChange: (expect?: readonly string[]) => void;
}) {
  const status = useFormStatus();
  const path = { params: { path: { id: asset.assetId } } };
  return (
    <section aria-labelledby="actions-title" class="panel">
      <h2 id="actions-title">Actions</h2>
      {asset.status === 'deleted' ? (
        <button
          type="button"
          onClick={() =>
            void status.run(async () => {
              await must(api.POST('/media/{id}/restore', path));
              onChange(['ready']);
            }, 'Restored from the trash.')
          }
        >
          Restore
        </button>
      ) : (
        <button
          type="button"
          class="danger"
          onClick={() =>
            void status.run(async () => {
              await must(api.DELETE('/media/{id}', path));
              onChange(['deleted']);
            }, 'Moved to the trash.')
          }
        >
          Delete
        </button>
      )}
      {status.view}
    </section>
  );
}
