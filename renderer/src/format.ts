/** Binary units, one decimal below 10 of a unit: `812 B`, `1.5 KiB`, `23 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  const text = value < 10 ? value.toFixed(1) : Math.round(value).toString();
  return `${text} ${units[unit]}`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2025-11-21 14:03` in the viewer's time zone; the raw value for anything unparseable. */
export function formatDateTime(iso: string | null): string {
  if (iso === null || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `14:03:07` for chart axes. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `A 80% / B 20%` */
export function formatSplit(split: number): string {
  return `A ${split}% / B ${100 - split}%`;
}

export function formatRate(rps: number): string {
  return rps >= 100 ? rps.toFixed(0) : rps >= 10 ? rps.toFixed(1) : rps.toFixed(2);
}

const STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

/** Whole-second ticks, at most about six, so labels never repeat. */
export function timeTicks(startMs: number, endMs: number): number[] {
  if (!(endMs > startMs)) return [startMs];
  const span = (endMs - startMs) / 1000;
  const step = (STEPS_S.find((s) => span / s <= 5) ?? 600) * 1000;
  const ticks: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) ticks.push(t);
  return ticks;
}

/** Milliseconds for latency: `0.42`, `3.4`, `27`; a dash for no value. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** A share 0..1 as a percentage with one decimal (`87.5%`, `0%`, `100%`); a dash for no value. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  return pct === 0 || pct === 100 ? `${pct}%` : `${pct.toFixed(1)}%`;
}

/**
 * Y-axis ticks from 0 to at least `max` in round steps (1, 2, 2.5 or 5 times a power of ten),
 * about `count` intervals: `niceTicks(2.2)` is `[0, 1, 2, 3]`, `niceTicks(0.42)` `[0, 0.2, 0.4, 0.6]`.
 * `integer` keeps the steps whole (for counts).
 */
export function niceTicks(max: number, count = 4, integer = false): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  if (integer) step = Math.max(1, Math.ceil(step));
  const ticks: number[] = [];
  for (let i = 0; ticks.length === 0 || (ticks[ticks.length - 1] as number) < max - step * 1e-9; i += 1) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** `2025-11-21 14:03:07` in the viewer's time zone (the stage history's resolution); the raw value if unparseable. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatDateTime(iso)}:${pad(d.getSeconds())} ${zoneName(d)}`;
}

/** The viewer's time zone as it names itself at `d` (`UTC`, `CET`, `GMT+2`): timestamps say which clock they are on. */
export function zoneName(d: Date = new Date()): string {
  try {
    const part = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
    return part?.value ?? 'local time';
  } catch {
    return 'local time';
  }
}

/** Decimal gigabytes with one decimal, as the VRAM check words it: `16.0 GB`, `0.0 GB`. */
export function formatGb(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** How long ago, coarsely: `just now`, `5 min ago`, `3 h ago`, `2 days ago`; '' for no value. */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (iso === null) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, (nowMs - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86_400);
  return `${days} ${days === 1 ? 'day' : 'days'} ago`;
}
