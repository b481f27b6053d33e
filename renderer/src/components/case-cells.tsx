import { endReasonText, formatGraderValue, graderUnit, type GraderResult } from '@contract';

/**
 * A grader's chip: its name and formatted value, coloured by pass / fail / measured. `marked` (the
 * failing cases) adds ✓ / ✗ and a tooltip that spells the result out; otherwise the tooltip is
 * what the grader measures.
 */
export function GraderChip({ g, marked = false }: { g: GraderResult; marked?: boolean }) {
  const state = g.pass === null ? 'info' : g.pass ? 'pass' : 'fail';
  const value = formatGraderValue(g.name, g.value);
  const meaning = graderUnit(g.name)?.meaning;
  const title = marked ? `${g.name}: ${g.pass === null ? 'measured' : g.pass ? 'pass' : 'fail'}${value ? ` (${value})` : ''}${meaning ? ` · ${meaning}` : ''}` : (meaning ?? g.name);
  return (
    <span className={`grader grader-${state}`} title={title}>
      {marked && (g.pass === null ? '' : g.pass ? '✓ ' : '✗ ')}
      {g.name}
      {value && <span className="grader-value">{value}</span>}
    </span>
  );
}

/** The end reason as recorded and what it means, so `track` is not left to guess. */
export function EndReason({ reason }: { reason: string }) {
  return (
    <span className="end-reason">
      <code>{reason}</code>
      <span className="end-reason-text">{endReasonText(reason)}</span>
    </span>
  );
}
