import type { Asset } from '../api';

/** The asset's events, oldest first, as the workflow recorded them. */
export function Timeline({ asset }: { asset: Asset }) {
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <ol class="timeline">
        {asset.events.map((e, i) => (
          <li key={i}>
            <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time> <strong>{e.type}</strong>
            {e.stage && <> · {e.stage}</>}
            {e.from !== e.to && e.to && (
              <>
                {' '}
                · {e.from ?? '—'} → {e.to}
              </>
            )}
            {e.reason && <span class="reason"> · {e.reason}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
