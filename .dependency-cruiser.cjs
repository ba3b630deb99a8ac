/**
 * The import rule of docs/architecture.md, enforced in CI (`npm run lint`):
 * a stage imports core/; pipeline, api and alerts also import storage/; cli/ (the only
 * composition root) imports everything; no stage imports another; nothing imports cli/
 * except the cross-stage tests and benchmarks, which drive the composed platform.
 */
/** Tests beside the code may use the shared test helpers (service gates, HTTP session). */
const TEST_SUPPORT = '^test/support/';
const STAGES = ['cloud', 'collectors', 'pipeline', 'api', 'alerts', 'dashboards'];
const others = (stage) => STAGES.filter((s) => s !== stage).map((s) => `^${s}/`);

module.exports = {
  forbidden: [
    ...STAGES.map((stage) => ({
      name: `no-${stage}-to-other-stage`,
      comment: `${stage}/ may import core/ (and storage/ where allowed), never another stage: go through a core/ contract`,
      severity: 'error',
      from: { path: `^${stage}/` },
      to: { path: others(stage) },
    })),
    {
      name: 'core-is-upstream-of-everything',
      comment: 'core/ holds the shared contracts; it imports no other folder of the project',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(cloud|collectors|pipeline|storage|api|alerts|dashboards|cli|bench|test)/', pathNot: TEST_SUPPORT },
    },
    {
      name: 'storage-imports-core-only',
      severity: 'error',
      from: { path: '^storage/' },
      to: { path: '^(cloud|collectors|pipeline|api|alerts|dashboards|cli|bench|test)/', pathNot: TEST_SUPPORT },
    },
    {
      name: 'only-pipeline-api-alerts-dashboards-use-storage',
      comment: 'cloud/ and collectors/ are upstream of the store',
      severity: 'error',
      from: { path: '^(cloud|collectors)/' },
      to: { path: '^storage/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the composition root; only tests and benchmarks may drive it',
      severity: 'error',
      from: { path: '^(core|storage|cloud|collectors|pipeline|api|alerts|dashboards)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
