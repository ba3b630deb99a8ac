import { defineConfig } from 'vitest/config';

/** Test files that use the shared RabbitMQ and Kafka (one restarts the broker): run one at a time. */
const SERVICE_TESTS = ['core/bus/amqp.test.ts', 'core/stream/kafka.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    // chDB binds one data directory per process: every test file runs in its own fork.
    pool: 'forks',
    // Two cores: two files at a time keeps the real services (and chDB) responsive.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print the plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: '.cache/vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{core,storage,cloud,collectors,pipeline,api,alerts,dashboards,cli}/**/*.test.ts'],
          exclude: SERVICE_TESTS,
        },
      },
      {
        extends: true,
        test: {
          name: 'services',
          include: SERVICE_TESTS,
          fileParallelism: false,
        },
      },
    ],
  },
});
