/**
 * The tests `npm run mutate` runs against each mutant: every test of jest.config.js but those that only cost time.
 * Tests that spawn `npm start`, osls or the load tool run our code in another process, where Stryker's mutants are
 * not switched on; docs and esbuild-plugins check files, not rules. dashboard and field-names run the handlers in
 * `beforeAll`: code run outside a test makes each mutant it reaches "static", run against every test (it took a run
 * from about an hour to many). enqueue runs lib/ in-process, but only through rules request-rules and key-rule
 * already hold (its SQS sends and file reading are not among the mutated files).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

const notForMutants = [
  'docs',
  'enqueue',
  'esbuild-plugins',
  'event-source-mapping',
  'generated-client',
  'load',
  'package',
  'start',
  'workflow-runner',
  'dashboard',
  'field-names',
];

module.exports = {
  ...base,
  testPathIgnorePatterns: notForMutants.map((name) => `/test/${name}\\.test\\.ts$`),
  reporters: ['default'],
};
