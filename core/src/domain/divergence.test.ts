import { describe, expect, it } from 'vitest';
import { actionDivergence } from './divergence.js';

describe('actionDivergence', () => {
  it('computes cosine and max abs difference', () => {
    expect(actionDivergence([[1, 0]], [[1, 0]])).toEqual({ cosine: 1, maxAbs: 0 });
    const d = actionDivergence([[1, 0]], [[0, 2]])!;
    expect(d.cosine).toBe(0);
    expect(d.maxAbs).toBe(2);
    expect(actionDivergence([[2], [2]], [[-2], [-2]])!.cosine).toBeCloseTo(-1);
    expect(actionDivergence([[1, 2]], [[1]])).toBeNull();
  });
});
