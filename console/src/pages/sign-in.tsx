import { useState } from 'preact/hooks';
import { signIn, type Identity } from '../session';

/** A bearer token pasted in; `npm start` prints a link that signs the dev owner in without this. */
export function SignIn({ onSignedIn }: { onSignedIn: (i: Identity) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  return (
    <main id="main" class="sign-in">
      <h1 tabIndex={-1}>Sign in to Assetline</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const identity = signIn(token);
          if (identity) onSignedIn(identity);
          else setError('That is not a valid, unexpired bearer token (a JWT whose sub is your owner id).');
        }}
      >
        <label for="token">Bearer token</label>
        <textarea
          id="token"
          rows={4}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
        <p class="hint">Kept in this tab's session storage only; closing the tab signs you out.</p>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
