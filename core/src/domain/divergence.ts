/**
 * How far a shadow answer is from the primary one: cosine similarity of the flattened action
 * chunks and the largest absolute difference. Null when the shapes differ (nothing to compare).
 */
export function actionDivergence(a: ReadonlyArray<ArrayLike<number>>, b: ReadonlyArray<ArrayLike<number>>): { cosine: number; maxAbs: number } | null {
  if (a.length !== b.length) return null;
  let dot = 0;
  let na = 0;
  let nb = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const ra = a[i]!;
    const rb = b[i]!;
    if (ra.length !== rb.length) return null;
    for (let j = 0; j < ra.length; j++) {
      const x = ra[j]!;
      const y = rb[j]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
      const d = Math.abs(x - y);
      // NaN compares false everywhere; `d !== d` lets a NaN difference show instead of hiding.
      if (d > maxAbs || d !== d) maxAbs = d;
    }
  }
  // Two zero vectors agree; a zero vector against a non-zero one has no direction in common.
  const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  return { cosine, maxAbs };
}
