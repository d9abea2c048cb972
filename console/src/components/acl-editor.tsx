import { useEffect, useState } from 'preact/hooks';
import { must, type Api, type Asset } from '../api';
import { useFormStatus } from './form-status';

type Permission = 'read' | 'write' | 'delete';
interface Grant {
  principal: string;
  permission: Permission;
}

/** Who else may read, write or delete (GET/PUT /media/{id}/acl); principals as the API names them. */
export function AclEditor({ api, asset }: { api: Api; asset: Asset }) {
  const [grants, setGrants] = useState<Grant[] | null>(null);
  const [principal, setPrincipal] = useState('');
  const [permission, setPermission] = useState<Permission>('read');
  const status = useFormStatus();
  const path = { params: { path: { id: asset.assetId } } };
  useEffect(() => {
    void must(api.GET('/media/{id}/acl', path)).then(
      (a) => setGrants(a.grants),
      () => setGrants([]),
    );
  }, [asset.assetId]);
  const save = (next: Grant[], done: string) =>
    status.run(
      async () =>
        setGrants((await must(api.PUT('/media/{id}/acl', { ...path, body: { grants: next } }))).grants),
      done,
    );
  return (
    <section aria-labelledby="acl-title" class="panel">
      <h2 id="acl-title">Sharing</h2>
      {grants === null ? (
        <p>Loading…</p>
      ) : grants.length === 0 ? (
        <p>Not shared.</p>
      ) : (
        <ul>
          {grants.map((g, i) => (
            <li key={`${g.principal}-${g.permission}`}>
              {g.principal} may {g.permission}{' '}
              <button
                type="button"
                aria-label={`Revoke ${g.permission} from ${g.principal}`}
                onClick={() =>
                  void save(
                    grants.filter((_, j) => j !== i),
                    'Revoked.',
                  )
                }
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void save([...(grants ?? []), { principal: principal.trim(), permission }], 'Shared.');
          setPrincipal('');
        }}
      >
        <label for="acl-principal">Principal</label>
        <input
          id="acl-principal"
          placeholder="user:42 or group:editors"
          value={principal}
          onInput={(e) => setPrincipal(e.currentTarget.value)}
          required
        />
        <label for="acl-permission">Permission</label>
        <select
          id="acl-permission"
          value={permission}
          onChange={(e) => setPermission(e.currentTarget.value as Permission)}
        >
          <option value="read">read</option>
          <option value="write">write</option>
          <option value="delete">delete</option>
        </select>
        <button type="submit">Share</button>
      </form>
      {status.view}
    </section>
  );
}
