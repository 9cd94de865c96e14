// @ts-check
/**
 * `npm run mutate`: mutation testing (StrykerJS) of the core of lib/, the eight files whose rules the tests must hold.
 * Not in CI: a full run took 2 h 52 min on two cores. `perTest` coverage runs only the tests that reach a mutant;
 * the TypeScript checker drops mutants that do not compile before any test runs. The report goes to
 * reports/mutation/ (HTML and JSON); the score to aim for is 90% of the reached mutants killed.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutate.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'lib/mixin/retry.ts',
    'lib/mixin/request.ts',
    'lib/mixin/conversation.ts',
    'lib/conversations.ts',
    'lib/idempotency-key.ts',
    'lib/lambda/dead-letter.ts',
    'lib/lambda/sqs-batch.ts',
    'lib/lambda/http-status.ts',
  ],
  // Build output and reports stay out of the sandbox; everything the tests read (bench/results, infra/) goes in.
  ignorePatterns: ['.serverless', '.esbuild', '.build', 'dist', 'coverage', 'reports', '.local'],
  concurrency: 2,
  // The tests start real local peers (sandbox, Secrets Manager, SQS): slower than unit tests, so a generous timeout.
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
};
