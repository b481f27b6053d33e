/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and summarizes where the time went: top
 * frames by self time, top frames by inclusive time, and self time grouped by package.
 *
 * Standalone: `npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [top]`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameCost {
  frame: string;
  group: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  /** Non-idle sampled time. */
  busyMs: number;
  bySelf: FrameCost[];
  byTotal: FrameCost[];
  byGroup: { group: string; selfMs: number; pct: number }[];
}

/** Which package or layer a frame belongs to. */
export function groupOf(cf: CallFrame): string {
  const { url, functionName } = cf;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return 'native/builtin';
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(core\/src\/[^?]*|bench\/[^?]*)$/.exec(url);
  if (m) return 'switchyard ' + m[1]!.replace(/^.*\/core\/src\//, 'core/src/').split('/').slice(0, 3).join('/');
  return url.split('/').slice(-2).join('/');
}

function frameName(cf: CallFrame): string {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  const short = cf.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/(core\/src|dist\/core\/src|bench)\//, '$1/');
  return `${fn} ${short}:${cf.lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, { ms: number; group: string }>();
  const total = new Map<string, number>();
  const groups = new Map<string, number>();
  let busy = 0;
  // timeDeltas[i] is the time before sample i; attribute the gap after a sample to that sample.
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) continue;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') continue;
    busy += dt;
    const key = frameName(cf);
    const g = groupOf(cf);
    const e = self.get(key) ?? { ms: 0, group: g };
    e.ms += dt;
    self.set(key, e);
    groups.set(g, (groups.get(g) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id, depth = 0; cur !== undefined && depth < 400; cur = parent.get(cur), depth++) {
      const k = frameName(byId.get(cur)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const pct = (x: number) => (busy > 0 ? (100 * x) / busy : 0);
  const cost = (frame: string): FrameCost => {
    const s = self.get(frame);
    const t = total.get(frame) ?? 0;
    return { frame, group: s?.group ?? '', selfMs: s?.ms ?? 0, selfPct: pct(s?.ms ?? 0), totalMs: t, totalPct: pct(t) };
  };
  const bySelf = [...self.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top).map(([k]) => cost(k));
  const byTotal = [...total.entries()]
    .filter(([k]) => k !== '(root)' && !k.startsWith('(program)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k]) => cost(k));
  const byGroup = [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([group, ms]) => ({ group, selfMs: ms, pct: pct(ms) }));
  return { file, wallMs: (p.endTime - p.startTime) / 1000, busyMs: busy, bySelf, byTotal, byGroup };
}

export function formatSummary(s: ProfileSummary, top = 15): string {
  const lines: string[] = [];
  lines.push(`${s.file}: wall ${(s.wallMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s (${((100 * s.busyMs) / Math.max(1, s.wallMs)).toFixed(0)}%)`);
  lines.push('  self time by package/layer:');
  for (const g of s.byGroup.slice(0, top)) lines.push(`    ${g.pct.toFixed(1).padStart(5)}%  ${(g.selfMs / 1000).toFixed(2).padStart(7)} s  ${g.group}`);
  lines.push('  top frames by self time:');
  for (const f of s.bySelf) lines.push(`    ${f.selfPct.toFixed(1).padStart(5)}%  ${f.frame}`);
  lines.push('  top frames by inclusive time:');
  for (const f of s.byTotal) lines.push(`    ${f.totalPct.toFixed(1).padStart(5)}%  ${f.frame}`);
  return lines.join('\n') + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpuprofile.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 20);
  process.stdout.write(formatSummary(summarizeProfile(file, top), top));
}
