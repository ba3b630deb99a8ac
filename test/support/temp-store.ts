import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, createChdbDriver, migrate, type ClickHouseDriver } from '../../storage/index.ts';

/** An embedded store (chDB) in a fresh temporary folder, migrated to the current schema. */
export interface TempStore {
  readonly store: ClickHouseDriver;
  /** Closes the driver and removes the folder. */
  close(): Promise<void>;
}

export async function openTempStore(prefix = 'cumulus-store-'): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = createChdbDriver({ dataDir: dir });
  await migrate(store, MIGRATIONS);
  return {
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
