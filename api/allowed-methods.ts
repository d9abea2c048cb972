import type { RequestHandler } from 'express';
import { HttpProblem } from './problem';

interface PathMethods {
  pattern: RegExp;
  /** Literal segments: the most specific template wins, as in OpenAPI (`/media/upload-url` over `/media/{id}`). */
  literals: number;
  allow: string[];
}

const DOCUMENTED = ['get', 'head', 'post', 'put', 'patch', 'delete'];

/** `{path}` is the origin's multi-segment parameter (Express' `*path`); every other parameter is one segment. */
function compile(template: string, methods: string[]): PathMethods {
  const segments = template.split('/').slice(1);
  const source = segments
    .map((s) =>
      s === '{path}'
        ? '(?:/[^/]+)+'
        : /^\{\w+\}$/.test(s)
          ? '/[^/]+'
          : `/${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
    )
    .join('');
  const upper = methods.filter((m) => DOCUMENTED.includes(m)).map((m) => m.toUpperCase());
  // Express answers HEAD with every GET route.
  if (upper.includes('GET') && !upper.includes('HEAD')) upper.push('HEAD');
  return {
    // Express matches paths case-insensitively and with an optional trailing slash.
    pattern: new RegExp(`^${source}/?$`, 'i'),
    literals: segments.filter((s) => !s.startsWith('{')).length,
    allow: upper,
  };
}

/**
 * A method the document does not list for a known path answers 405 with `Allow` (RFC 9110), before
 * authentication: which methods a path has is no secret. OPTIONS answers 204 with the same `Allow`. Paths the
 * document does not know go on to the 404.
 */
export function allowedMethods(paths: Record<string, Record<string, unknown>>): RequestHandler {
  const known = Object.entries(paths)
    .map(([template, item]) => compile(template, Object.keys(item)))
    .sort((a, b) => b.literals - a.literals);
  return (req, res, next) => {
    const match = known.find((p) => p.pattern.test(req.path));
    if (!match || match.allow.includes(req.method)) return next();
    const allow = [...match.allow, 'OPTIONS'].join(', ');
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow).status(204).end();
      return;
    }
    const detail = `${req.method} is not allowed on ${req.path}; allowed: ${allow}`;
    next(new HttpProblem(405, 'Method Not Allowed', detail, {}, { Allow: allow }));
  };
}
