import type { Request } from 'express';

/**
 * The viewer's country (ISO 3166-1 alpha-2), or undefined when unknown. Placeholder until the edge work lands:
 * nothing is trusted yet, so every viewer is unknown.
 */
export function viewerCountry(_req: Request): string | undefined {
  return undefined;
}
