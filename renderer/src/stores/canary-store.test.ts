import { describe, expect, it } from 'vitest';
import { canaryHint, DEFAULT_CANARY_FORM, parseCanaryForm } from './canary-store';

describe('parseCanaryForm', () => {
  it('turns the default form into the server defaults, in milliseconds', () => {
    const r = parseCanaryForm(DEFAULT_CANARY_FORM);
    expect(r).toEqual({
      ok: true,
      input: { steps: [5, 25, 50, 100], intervalMs: 60_000, alpha: 0.05, errorMargin: 0.02, p99MaxRatio: 1.5, minRequestsPerLook: 1, monitorWindowMs: 300_000, actor: 'workbench' },
    });
  });

  it('accepts percent signs and spaces in the steps', () => {
    const r = parseCanaryForm({ ...DEFAULT_CANARY_FORM, steps: '10% 50%, 100%' });
    expect(r.ok && r.input.steps).toEqual([10, 50, 100]);
  });

  it.each([
    ['50, 90', 'steps', 'last step must be 100'],
    ['50, 25, 100', 'steps', 'must increase'],
    ['0, 100', 'steps', 'from 1 to 100'],
    ['', 'steps', 'at least one step'],
  ])('refuses steps %j naming the field', (steps, field, text) => {
    const r = parseCanaryForm({ ...DEFAULT_CANARY_FORM, steps });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toContain(text);
    }
  });

  it('refuses an alpha of 0.5 and a ratio under 1', () => {
    expect(parseCanaryForm({ ...DEFAULT_CANARY_FORM, alpha: '0.5' })).toMatchObject({ ok: false, field: 'alpha' });
    expect(parseCanaryForm({ ...DEFAULT_CANARY_FORM, p99MaxRatio: '0.9' })).toMatchObject({ ok: false, field: 'p99MaxRatio' });
    expect(parseCanaryForm({ ...DEFAULT_CANARY_FORM, intervalS: 'soon' })).toMatchObject({ ok: false, field: 'intervalS' });
  });

  it('needs a reason to force, and sends it', () => {
    expect(parseCanaryForm({ ...DEFAULT_CANARY_FORM, force: true, reason: '  ' })).toMatchObject({ ok: false, field: 'reason' });
    const r = parseCanaryForm({ ...DEFAULT_CANARY_FORM, force: true, reason: ' ticket 7 ' });
    expect(r.ok && r.input).toMatchObject({ force: true, reason: 'ticket 7' });
  });
});

describe('canaryHint', () => {
  it('offers the gate or an override when the verdict is missing', () => {
    expect(canaryHint({ code: 'SWY_ERR_VERDICT_REQUIRED', message: 'x' })).toContain('Force');
  });
  it('sends a candidate that is not in staging to the Promote page', () => {
    expect(canaryHint({ code: 'SWY_ERR_INVALID_INPUT', message: 'x', where: 'candidate' })).toContain('staging');
  });
});
