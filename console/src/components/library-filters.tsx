import { useState } from 'preact/hooks';
import type { ListFilters } from '../api';

const TYPES = ['image', 'video', 'audio', 'document'] as const;
const STATUSES = ['pending', 'processing', 'ready', 'rejected', 'quarantined', 'failed', 'expired'] as const;
const VISIBILITIES = ['draft', 'private', 'unlisted', 'public'] as const;

/** GET /media's filters; tags as `key:value`, several separated by commas (all must match). */
export function LibraryFilters({ onApply }: { onApply: (f: ListFilters) => void }) {
  const [f, setF] = useState({ type: '', status: '', visibility: '', tags: '', from: '', to: '' });
  const field = (name: keyof typeof f) => ({
    id: `filter-${name}`,
    value: f[name],
    onInput: (e: Event) => setF({ ...f, [name]: (e.currentTarget as HTMLInputElement).value }),
  });
  const select = (name: 'type' | 'status' | 'visibility', label: string, options: readonly string[]) => (
    <div class="field">
      <label for={`filter-${name}`}>{label}</label>
      <select {...field(name)} onChange={field(name).onInput}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        const tags = f.tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        onApply({
          type: (f.type || undefined) as ListFilters['type'],
          status: (f.status || undefined) as ListFilters['status'],
          visibility: (f.visibility || undefined) as ListFilters['visibility'],
          tag: tags.length ? tags : undefined,
          createdFrom: f.from || undefined,
          createdTo: f.to || undefined,
        });
      }}
    >
      {select('type', 'Type', TYPES)}
      {select('status', 'Status', STATUSES)}
      {select('visibility', 'Visibility', VISIBILITIES)}
      <div class="field">
        <label for="filter-tags">Tags (key:value, …)</label>
        <input type="text" {...field('tags')} placeholder="album:summer" />
      </div>
      <div class="field">
        <label for="filter-from">Created from</label>
        <input type="date" {...field('from')} />
      </div>
      <div class="field">
        <label for="filter-to">Created before</label>
        <input type="date" {...field('to')} />
      </div>
      <button type="submit">Apply filters</button>
    </form>
  );
}
