import { useState } from 'preact/hooks';
import { must, type Api, type Asset } from '../api';
import { useFormStatus } from './form-status';

/** Where the asset may be watched: everywhere, only in, or not in the listed countries (PUT /media/{id}/regions). */
export function RegionsEditor({ api, asset, onChange }: { api: Api; asset: Asset; onChange: () => void }) {
  const [mode, setMode] = useState<'' | 'allow' | 'block'>(asset.regions?.mode ?? '');
  const [countries, setCountries] = useState(asset.regions?.countries.join(', ') ?? '');
  const status = useFormStatus();
  return (
    <section aria-labelledby="regions-title" class="panel">
      <h2 id="regions-title">Regions</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const list = countries
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((c) => c.toUpperCase());
          const body = mode === '' ? {} : { [mode]: list };
          void status.run(async () => {
            await must(api.PUT('/media/{id}/regions', { params: { path: { id: asset.assetId } }, body }));
            onChange();
          }, 'Regions saved.');
        }}
      >
        <label for="regions-mode">Policy</label>
        <select
          id="regions-mode"
          value={mode}
          onChange={(e) => setMode(e.currentTarget.value as typeof mode)}
        >
          <option value="">everywhere</option>
          <option value="allow">only in</option>
          <option value="block">everywhere but</option>
        </select>
        <label for="regions-countries">Countries (ISO codes)</label>
        <input
          id="regions-countries"
          value={countries}
          disabled={mode === ''}
          placeholder="DE, FR"
          onInput={(e) => setCountries(e.currentTarget.value)}
        />
        <button type="submit">Save regions</button>
      </form>
      {status.view}
    </section>
  );
}
