import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { currentIdentity, signOut, takeTokenFromUrl, type Identity } from './session';
import { SignIn } from './pages/sign-in';
import { Library, prefetchFirstPage } from './pages/library';
import { apiFor } from './api';
import { AssetPage } from './pages/asset';
import { UploadPage } from './pages/upload';
import { Operators } from './pages/operators';

/** Hash routes: the API serves one shell at /console, and the fragment never reaches it. */
type Route = { page: 'library' } | { page: 'asset'; id: string } | { page: 'upload' } | { page: 'operators' };

function routeOf(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'asset' && id) return { page: 'asset', id };
  if (page === 'upload') return { page: 'upload' };
  if (page === 'operators') return { page: 'operators' };
  return { page: 'library' };
}

const TITLES = { library: 'Library', asset: 'Asset', upload: 'Upload', operators: 'Failures' } as const;

function App() {
  const [identity, setIdentity] = useState<Identity | null>(currentIdentity);
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.title = identity ? `${TITLES[route.page]} · Assetline console` : 'Sign in · Assetline console';
    // Focus moves to the new page's heading, so a screen reader announces it and Tab starts there.
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [route, identity]);

  if (!identity) return <SignIn onSignedIn={setIdentity} />;
  const link = (page: Route['page'], label: string) => (
    <a href={`#/${page}`} aria-current={route.page === page ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Assetline</span>
        <nav aria-label="Console">
          {link('library', 'Library')}
          {link('upload', 'Upload')}
          {identity.operator && link('operators', 'Failures')}
        </nav>
        <span class="who">
          owner {identity.ownerId}
          {identity.operator ? ' (operator)' : ''}
        </span>
        <button
          type="button"
          onClick={() => {
            signOut();
            setIdentity(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === 'library' && <Library identity={identity} />}
        {route.page === 'asset' && <AssetPage key={route.id} identity={identity} assetId={route.id} />}
        {route.page === 'upload' && <UploadPage identity={identity} />}
        {route.page === 'operators' && <Operators identity={identity} />}
      </main>
    </>
  );
}

takeTokenFromUrl();
const signedIn = currentIdentity();
if (signedIn && routeOf(location.hash).page === 'library') prefetchFirstPage(apiFor(signedIn.token));
render(<App />, document.getElementById('app')!);
