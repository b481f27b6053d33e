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

/** The Versions page with this version's detail pane open (`#/versions?version=policy@label`). */
export function versionHref(policy: string, label: string): string {
  return `#/versions?version=${encodeURIComponent(`${policy}@${label}`)}`;
}

/** One verdict's detail (`#/verdict?policy=P&id=N`); reloading it shows the same verdict. */
export function verdictHref(policy: string, id: number): string {
  return `#/verdict?${new URLSearchParams({ policy, id: String(id) }).toString()}`;
}

/** One evaluation run's detail (`#/run?id=N`): its cases, and Compare with it. */
export function runHref(id: number): string {
  return `#/run?id=${id}`;
}

/** Compare with this selection (only what is given is chosen). */
export function compareHref(sel: { baseline?: string | null; candidate?: string | null; suite?: string | null }): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(sel)) if (typeof v === 'string' && v !== '') q.set(k, v);
  const text = q.toString();
  return `#/compare${text === '' ? '' : `?${text}`}`;
}

function currentHash(): string {
  return window.location.hash;
}

/** The whole fragment, page and query: a detail page re-reads its query when a link changes only that. */
export function useHash(): string {
  return useSyncExternalStore(subscribe, currentHash, () => '');
}
