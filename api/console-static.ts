import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { HttpProblem, notFound } from './problem';

/** Where `npm run build:console` (scripts/build-console.ts) writes the console. */
export const CONSOLE_DIST = path.resolve(import.meta.dirname, '..', 'console', 'dist');

export interface ConsoleSettings {
  /** CONSOLE_TEMPORAL_UI_URL: the asset page links each asset's run there; unset, no link. */
  temporalUiUrl?: string | undefined;
  temporalNamespace?: string | undefined;
  /** The built console; CONSOLE_DIST unless a test says otherwise. */
  dir?: string;
  /**
   * Origins other than the API's that the page reaches, for its Content-Security-Policy: where delivery URLs point
   * (DELIVERY_BASE_URL: thumbnails, posters, HLS) and where browsers upload (S3_PUBLIC_ENDPOINT, else S3_ENDPOINT).
   */
  origins?: { delivery?: string | undefined; uploads?: string | undefined };
}

/**
 * The console holds a bearer token in its tab: nothing but its own files may run (no inline script: its settings
 * are JSON data blocks), it reaches only the API, the edge and the bucket, and no other site may frame it. Styles
 * may be inline (Uppy and the player set style attributes); hls.js runs its demuxer in a blob: worker and plays
 * through a blob: MediaSource URL; Uppy previews are blob: and data: images.
 */
export function consolePolicy(origins: ConsoleSettings['origins'] = {}): string {
  const originOf = (url: string | undefined) => (url ? [new URL(url).origin] : []);
  const delivery = originOf(origins.delivery);
  const uploads = originOf(origins.uploads);
  const list = (...sources: string[]) => [...new Set(sources)].join(' ');
  return [
    `default-src 'self'`,
    `script-src 'self'`,
    `worker-src 'self' blob:`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src ${list(`'self'`, 'data:', 'blob:', ...delivery)}`,
    `media-src ${list(`'self'`, 'blob:', ...delivery)}`,
    `connect-src ${list(`'self'`, ...delivery, ...uploads)}`,
    `object-src 'none'`,
    `base-uri 'self'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}

/** The JSON the shell carries, safe inside <script>: `<` never appears literally. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * The web console under /console: hashed files under /console/assets/ are immutable for a year; the shell (any
 * other GET, so a reload on any console URL works) is never cached and carries the settings the page needs. Static
 * files, public like /openapi.json: the page signs in with a bearer token of its own. Mounted with app.use, so it
 * is no API route (api/openapi/ has none for it). Built ahead of time; a missing build is a 503 saying how to make it.
 */
export function consoleStatic(settings: ConsoleSettings): RequestHandler {
  const dir = settings.dir ?? CONSOLE_DIST;
  const assets = express.static(path.join(dir, 'assets'), {
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  const config = inlineJson({
    temporalUiUrl: settings.temporalUiUrl ?? null,
    temporalNamespace: settings.temporalNamespace ?? 'default',
  });
  const policy = consolePolicy(settings.origins);
  let shell: string | undefined;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/assets/')) {
      req.url = req.url.slice('/assets'.length);
      // Not on to authentication: a missing file is a 404, whoever asks.
      return assets(req, res, () => next(notFound(`no console file ${req.path}`)));
    }
    if (shell === undefined) {
      try {
        shell = fs.readFileSync(path.join(dir, 'index.html'), 'utf8').replace('<!--config-->', config);
      } catch {
        throw new HttpProblem(
          503,
          'Service Unavailable',
          'the console is not built: run npm run build:console',
        );
      }
    }
    // Relative asset URLs need the trailing slash; the shell names them absolutely, but keep one URL per page.
    if (req.originalUrl === '/console') return res.redirect(301, '/console/');
    res
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Content-Security-Policy': policy,
      })
      .send(shell);
  };
}
