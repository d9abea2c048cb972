import { AssetlineError } from '../errors.ts';

/** Exit codes (README "Clients"): scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** Some asset failed, was rejected, or an upload could not finish for a reason of its own (a 4xx). */
  assetFailed: 1,
  usage: 2,
  /** The token was refused (401). */
  auth: 3,
  /** The API or storage could not be reached, or answered 5xx. */
  network: 4,
} as const;

export class UsageError extends Error {}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof AssetlineError) {
    if (err.status === 401) return EXIT.auth;
    if (err.status === 0 || err.status >= 500) return EXIT.network;
    return EXIT.assetFailed;
  }
  return EXIT.assetFailed;
}

/** The worst of several outcomes: auth beats network beats a failed asset, so the cause a human must fix shows. */
export function worst(codes: number[]): number {
  for (const code of [EXIT.usage, EXIT.auth, EXIT.network, EXIT.assetFailed])
    if (codes.includes(code)) return code;
  return EXIT.ok;
}

/** One line for a human: the problem's title and detail (with its field errors), or the error's message. */
export function describe(err: unknown): string {
  if (err instanceof AssetlineError) {
    if (err.status === 401)
      return `authentication failed (401): ${err.message}; check --token / ASSETLINE_TOKEN`;
    const title = err.title && err.title !== err.detail ? `${err.title}: ` : '';
    return `${err.status ? `HTTP ${err.status} ` : ''}${title}${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
