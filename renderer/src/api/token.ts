/**
 * The control token for a headless server. `switchyard console` prints a URL with `?token=...`;
 * on start the workbench moves it into sessionStorage (so it survives reloads of this tab only)
 * and removes it from the address bar (so it does not end up in history or screenshots).
 */
export const TOKEN_STORAGE_KEY = 'switchyard.token';

export interface TokenEnvironment {
  location: Pick<Location, 'href'>;
  history: Pick<History, 'replaceState' | 'state'> | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

export function takeToken(env: TokenEnvironment): string | null {
  const url = new URL(env.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null && fromUrl !== '') {
    try {
      env.storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    } catch {
      // Storage may be disabled; the token still works for this page's lifetime.
    }
    url.searchParams.delete('token');
    env.history?.replaceState(env.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    const stored = env.storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
    return stored === '' ? null : stored;
  } catch {
    return null;
  }
}
