// @vitest-environment node
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EndReason, GraderChip } from './case-cells';

// The markup the compare page's failing cases and the run page wrote before they shared these cells.
describe('case cells', () => {
  it('a marked chip (failing cases) carries ✓ / ✗ and a tooltip that spells the result out', () => {
    const html = renderToStaticMarkup(createElement(GraderChip, { g: { name: 'survived', pass: false, value: null }, marked: true }));
    expect(html).toBe('<span class="grader grader-fail" title="survived: fail">✗ survived</span>');
    const measured = renderToStaticMarkup(createElement(GraderChip, { g: { name: 'steps', pass: null, value: 42 }, marked: true }));
    expect(measured).toMatch(/^<span class="grader grader-info" title="steps: measured \(42[^"]*\)[^"]*">steps<span class="grader-value">42/);
  });

  it('a plain chip (run page) has no mark and the grader meaning (or its name) as tooltip', () => {
    const html = renderToStaticMarkup(createElement(GraderChip, { g: { name: 'survived', pass: true, value: null } }));
    expect(html).toBe('<span class="grader grader-pass" title="survived">survived</span>');
  });

  it('an end reason shows the recorded code and what it means', () => {
    const html = renderToStaticMarkup(createElement(EndReason, { reason: 'track' }));
    expect(html).toMatch(/^<span class="end-reason"><code>track<\/code><span class="end-reason-text">.+<\/span><\/span>$/);
  });
});
