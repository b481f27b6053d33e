import { useSyncExternalStore } from 'react';

/**
 * Hash routing (`#/traffic`): works the same from file:// in Electron and from http:// in a
 * browser, with no server-side routes.
 */
export function currentPath(): string {
  // `#/compare?baseline=…`: the page is the part before `?`; the rest is the page's own state.
  const hash = window.location.hash.replace(/^#/, '').split('?')[0] ?? '';
  return hash === '' ? '/' : hash;
}

/** The page state in the URL (`#/compare?baseline=…&candidate=…`). */
export function currentQuery(): URLSearchParams {
  const hash = window.location.hash;
  const at = hash.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
}

/** Puts the page's state in the URL without a new history entry or a hashchange (the page does not re-mount). */
export function replaceQuery(params: Record<string, string | null | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const text = q.toString();
  const next = `#${currentPath()}${text === '' ? '' : `?${text}`}`;
  if (next !== window.location.hash) window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}${next}`);
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath, () => '/');
}

export function hrefFor(path: string): string {
  return `#${path}`;
}
