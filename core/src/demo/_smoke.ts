import { writeDemoExports } from './cartpole-policies.js';
import { readExport } from '../runtime/export.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
const dirs = await writeDemoExports('/tmp/swy/demo');
for (const d of dirs) {
  const ex = await readExport(d);
  const t0 = performance.now();
  const r = await PolicyRunner.start({ export: ex, slot: 'prod', device: 'auto', logger: { info: (o, m) => console.log(m, JSON.stringify(o)), warn: (o, m) => console.log('WARN', m, JSON.stringify(o)), error: console.error } });
  const startMs = performance.now() - t0;
  const lat: number[] = []; const inf: number[] = [];
  let last;
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    last = await r.act({ episodeId: 'e' + (i % 10), state: [0.01, 0, 0.2, 0] });
    lat.push(performance.now() - t); inf.push(last.inferMs);
  }
  lat.sort((a, b) => a - b); inf.sort((a, b) => a - b);
  console.log(ex.manifest.version, ex.modelVersion, 'start', startMs.toFixed(0), 'ms; act p50', (lat[1000]! * 1000).toFixed(0), 'us p99', (lat[1980]! * 1000).toFixed(0), 'us; infer p50', (inf[1000]! * 1000).toFixed(0), 'us', JSON.stringify(last));
  await r.close();
}
