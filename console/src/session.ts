/**
 * The bearer token lives in sessionStorage only: it goes when the tab closes. A sign-in link carries it in the
 * fragment (`/console/#token=...`), which never reaches a server; it is read once and removed from the URL.
 */
const KEY = 'assetline.token';

export interface Identity {
  token: string;
  ownerId: string;
  operator: boolean;
}

/** The token's claims as the API reads them; the API verifies, this only decides what the console shows. */
export function identityOf(token: string): Identity | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    if (typeof claims.sub !== 'string') return null;
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
    return { token, ownerId: claims.sub, operator: claims.role === 'operator' };
  } catch {
    return null;
  }
}

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]!));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
}

export const currentIdentity = (): Identity | null => {
  const token = sessionStorage.getItem(KEY);
  return token ? identityOf(token) : null;
};

export function signIn(token: string): Identity | null {
  const identity = identityOf(token.trim());
  if (identity) sessionStorage.setItem(KEY, identity.token);
  return identity;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
