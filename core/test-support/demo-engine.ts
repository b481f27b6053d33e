import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine, type EngineConfig } from '../src/engine.js';
import { createMemoryLogger } from '../src/platform/logger.js';

/** A real engine on a throwaway store with the demo workspace built into it. */
export async function createDemoEngine(config: Partial<EngineConfig> = {}): Promise<{ engine: Engine; dir: string; logger: ReturnType<typeof createMemoryLogger>; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-engine-'));
  const logger = createMemoryLogger();
  const engine = await createEngine({ storePath: join(dir, 'store.db'), statsIntervalMs: 0, logger, device: 'cpu', ...config });
  await engine.buildDemo();
  return {
    engine,
    dir,
    logger,
    cleanup: async () => {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
