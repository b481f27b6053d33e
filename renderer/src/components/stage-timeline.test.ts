// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { actionText } from './stage-timeline';

describe('stage history wording', () => {
  it('calls production → staging by a promotion of another version "demoted", not "promoted"', () => {
    expect(actionText({ from: 'production', to: 'staging', action: 'promote' })).toBe('demoted');
    expect(actionText({ from: 'staging', to: 'production', action: 'promote' })).toBe('promoted');
    expect(actionText({ from: null, to: 'candidate', action: 'stage' })).toBe('registered');
    expect(actionText({ from: 'production', to: 'staging', action: 'rollback' })).toBe('rolled back');
  });
});
