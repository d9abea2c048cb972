/**
 * A player resolves a playlist's relative URIs against the playlist's URL and drops its query, so a signed master
 * would lead to unsigned variants and segments. Every relative URI (URI lines and URI="..." attributes of tags such
 * as #EXT-X-MAP and #EXT-X-MEDIA) gets the same query; absolute URIs point elsewhere and are left alone.
 */
export function signPlaylist(text: string, query: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (trimmed.startsWith('#EXT')) {
        return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${withQuery(uri, query)}"`);
      }
      if (trimmed.startsWith('#')) return line;
      return withQuery(trimmed, query);
    })
    .join('\n');
}

export function withQuery(uri: string, query: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('//')) return uri;
  const hash = uri.indexOf('#');
  const [base, fragment] = hash < 0 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}${query}${fragment}`;
}
