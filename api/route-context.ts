import type { Principal } from './auth';
import type { ApiDeps } from './deps';
import type { Services } from './services';

/** What every route module is built from. */
export interface RouteContext {
  deps: ApiDeps;
  services: Services;
}

export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('route mounted without requireAuth');
  return req.principal;
}
