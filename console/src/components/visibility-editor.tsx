import { useState } from 'preact/hooks';
import { must, type Api, type Asset, type Visibility } from '../api';
import { useFormStatus } from './form-status';

const VISIBILITIES: Visibility[] = ['draft', 'private', 'unlisted', 'public'];
/** datetime-local shows local time without a zone; the API wants an instant. */
const toLocal = (iso: string | null) =>
  iso
    ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
    : '';
const toIso = (local: string) => (local ? new Date(local).toISOString() : null);

/** Visibility now, or a scheduled release and end (PUT /media/{id}/visibility). */
export function VisibilityEditor({ api, asset, onChange }: { api: Api; asset: Asset; onChange: () => void }) {
  const [visibility, setVisibility] = useState<Visibility>(asset.publishAs ?? asset.visibility);
  const [publishAt, setPublishAt] = useState(toLocal(asset.publishAt));
  const [unpublishAt, setUnpublishAt] = useState(toLocal(asset.unpublishAt));
  const status = useFormStatus();
  return (
    <section aria-labelledby="visibility-title" class="panel">
      <h2 id="visibility-title">Visibility</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void status.run(async () => {
            await must(
              api.PUT('/media/{id}/visibility', {
                params: { path: { id: asset.assetId } },
                body: { visibility, publishAt: toIso(publishAt), unpublishAt: toIso(unpublishAt) },
              }),
            );
            onChange();
          }, 'Visibility saved.');
        }}
      >
        <label for="visibility">Set visibility</label>
        <select
          id="visibility"
          value={visibility}
          onChange={(e) => setVisibility(e.currentTarget.value as Visibility)}
        >
          {VISIBILITIES.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
        <label for="publish-at">Publish at (optional)</label>
        <input
          id="publish-at"
          type="datetime-local"
          value={publishAt}
          onInput={(e) => setPublishAt(e.currentTarget.value)}
        />
        <label for="unpublish-at">Unpublish at (optional)</label>
        <input
          id="unpublish-at"
          type="datetime-local"
          value={unpublishAt}
          onInput={(e) => setUnpublishAt(e.currentTarget.value)}
        />
        <button type="submit">Save visibility</button>
      </form>
      {status.view}
    </section>
  );
}
