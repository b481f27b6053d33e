import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, ServingMetrics } from './metrics.js';

const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'assets', 'grafana', 'switchyard-dashboard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

describe('the Grafana dashboard in assets/', () => {
  it('queries only metrics the server exports', async () => {
    const registry = createMetricsRegistry();
    new ServingMetrics(registry).initSlots(['a', 'b']);
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set<string>();
    for (const p of dashboard.panels) for (const t of p.targets) for (const m of t.expr.matchAll(/switchyard_[a-z_]+/g)) used.add(m[0].replace(/_(bucket|count|sum)$/, ''));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(exported, `${name} is not exported`).toContain(name);
  });

  it('has p99 latency per slot and cache hit rate per slot', () => {
    const p99 = dashboard.panels.find((p) => /p99/.test(p.title))!;
    expect(p99.targets[0]!.expr).toMatch(/histogram_quantile\(0\.99, sum by \(le, policy_slot\)/);
    const cache = dashboard.panels.find((p) => /cache hit rate/i.test(p.title))!;
    expect(cache.targets[0]!.expr).toMatch(/switchyard_cache_hit_total/);
    expect(cache.targets[0]!.expr).toMatch(/by \(policy_slot\)/);
  });
});
