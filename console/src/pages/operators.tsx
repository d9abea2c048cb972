import { useEffect, useState } from 'preact/hooks';
import { apiFor, must, problemText } from '../api';
import type { Identity } from '../session';

type Failure = Awaited<ReturnType<typeof loadFailures>>['failures'][number];
const loadFailures = (identity: Identity, before?: string) =>
  must(apiFor(identity.token).GET('/admin/failures', { params: { query: { limit: 100, before } } }));

/** Failed assets across owners (GET /admin/failures), each with a retry of its failed stage. */
export function Operators({ identity }: { identity: Identity }) {
  const [failures, setFailures] = useState<Failure[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [retried, setRetried] = useState<Record<string, string>>({});
  useEffect(() => {
    loadFailures(identity).then(
      (page) => {
        setFailures(page.failures);
        setNext(page.next);
      },
      (err: Error) => setError(err.message),
    );
  }, [identity.token]);

  async function retry(assetId: string) {
    const { error: problem, response } = await apiFor(identity.token).POST('/media/{id}/retry', {
      params: { path: { id: assetId } },
    });
    setRetried((r) => ({ ...r, [assetId]: response.ok ? 'Retrying' : problemText(problem, response) }));
  }

  return (
    <section aria-labelledby="failures-title">
      <h1 id="failures-title" tabIndex={-1}>
        Failures
      </h1>
      {!identity.operator && <p>Only operators see failures across owners.</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {failures && failures.length === 0 && <p>No failed assets.</p>}
      {failures && failures.length > 0 && (
        <table class="failures">
          <caption>Failed assets, most recent first</caption>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">Owner</th>
              <th scope="col">Type</th>
              <th scope="col">Stage</th>
              <th scope="col">Reason</th>
              <th scope="col">Failed at</th>
              <th scope="col">Retry</th>
            </tr>
          </thead>
          <tbody>
            {failures.map((f) => (
              <tr key={f.assetId} data-asset-id={f.assetId}>
                <td>
                  <a href={`#/asset/${f.assetId}`}>{f.assetId.slice(0, 8)}</a>
                </td>
                <td>{f.ownerId}</td>
                <td>{f.contentType}</td>
                <td>{f.stage ?? '—'}</td>
                <td class="reason">{f.error ?? '—'}</td>
                <td>
                  <time dateTime={f.failedAt}>{new Date(f.failedAt).toLocaleString()}</time>
                </td>
                <td>
                  {retried[f.assetId] ? (
                    <span role="status">{retried[f.assetId]}</span>
                  ) : (
                    <button
                      type="button"
                      onClick={() => void retry(f.assetId)}
                      aria-label={`Retry ${f.assetId}`}
                    >
                      Retry
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button
          type="button"
          onClick={() =>
            void loadFailures(identity, next).then((page) => {
              setFailures((prev) => [...(prev ?? []), ...page.failures]);
              setNext(page.next);
            })
          }
        >
          Load more
        </button>
      )}
    </section>
  );
}
