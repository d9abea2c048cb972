import { useState } from 'preact/hooks';
import { must, type Api, type Asset } from '../api';
import { useFormStatus } from './form-status';

/** The user's tags (metadata keys), each removable; one added or replaced at a time (PATCH /media/{id}/metadata). */
export function TagEditor({ api, asset, onChange }: { api: Api; asset: Asset; onChange: () => void }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const status = useFormStatus();
  const path = { params: { path: { id: asset.assetId } } };
  const patch = (body: { set?: Record<string, string>; remove?: string[] }, done: string) =>
    status.run(async () => {
      await must(api.PATCH('/media/{id}/metadata', { ...path, body }));
      onChange();
    }, done);
  return (
    <section aria-labelledby="tags-title" class="panel">
      <h2 id="tags-title">Tags</h2>
      <ul class="tags">
        {Object.entries(asset.metadata).map(([k, v]) => (
          <li key={k} data-tag={`${k}:${v}`}>
            <span>
              {k}: {v}
            </span>
            <button
              type="button"
              aria-label={`Remove tag ${k}`}
              onClick={() => void patch({ remove: [k] }, `Removed ${k}.`)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void patch({ set: { [key.trim()]: value } }, `Saved ${key.trim()}.`).then(() => {
            setKey('');
            setValue('');
          });
        }}
      >
        <label for="tag-key">Key</label>
        <input id="tag-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <label for="tag-value">Value</label>
        <input id="tag-value" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit">Save tag</button>
      </form>
      {status.view}
    </section>
  );
}
