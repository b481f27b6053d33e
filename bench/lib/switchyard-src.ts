/**
 * Runs the Switchyard CLI from TypeScript source (no build needed), for `act-bench.ts --from src`:
 *   node --import tsx bench/lib/switchyard-src.ts serve <export-dir> --port 0 --json ...
 * Same argv as `node bin/switchyard.js`.
 */
import { main } from '../../core/src/cli/main.js';

await main(process.argv);
