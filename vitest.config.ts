import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,storage,cloud,collectors,pipeline,api,alerts,dashboards,cli,test}/**/*.test.ts'],
    // chDB binds one data directory per process: every test file runs in its own fork.
    pool: 'forks',
    // Two cores: two files at a time keeps the real services (and chDB) responsive.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
