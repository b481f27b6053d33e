import { useSyncExternalStore } from 'react';

/**
 * Hash routing (`#/traffic`): works the same from file:// in Electron and from http:// in a
 * browser, with no server-side routes.
 */
export function currentPath(): string {
  const hash = window.location.hash.replace(/^#/, '');
  return hash === '' ? '/' : hash;
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
