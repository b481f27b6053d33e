// @vitest-environment node
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ServingStatePending } from './serving-state-pending';

// The markup the Live and Traffic pages each wrote before they shared it.
describe('serving state pending', () => {
  it('shows the header and that it is loading', () => {
    const html = renderToStaticMarkup(createElement(ServingStatePending, { header: createElement('h1', null, 'Live'), error: null, loading: true, onRetry: () => {} }));
    expect(html).toBe('<div class="page"><h1>Live</h1><p class="muted">Loading the serving state…</p></div>');
  });

  it('shows the error that kept the state away', () => {
    const error = { code: 'SWY_ERR_INTERNAL' as const, message: 'the server went away' };
    const html = renderToStaticMarkup(createElement(ServingStatePending, { header: null, error, loading: false, onRetry: () => {} }));
    expect(html).toContain('Could not read the serving state');
    expect(html).toContain('the server went away');
    expect(html).not.toContain('Loading the serving state');
  });
});
