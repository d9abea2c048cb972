import type { AccessControl } from './access';
import type { Principal } from './auth';
import type { ApiDeps } from './deps';
import type { WorkflowGateway } from './workflow-gateway';
import type { WorkflowStarter } from './workflow-starter';

/** What every route module is built from. */
export interface RouteContext {
  deps: ApiDeps;
  workflows: WorkflowGateway;
  /** Starts the workflows upload URLs owe, right after their answers. */
  starter: WorkflowStarter;
  access: AccessControl;
}

export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('route mounted without requireAuth');
  return req.principal;
}
