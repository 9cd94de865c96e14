/**
 * The tests `npm run mutate` runs against each mutant: every test of jest.config.js but those that cannot hold a
 * mutant and only cost time. Tests that spawn `npm start`, osls or the load tool run our code in another process,
 * where Stryker's mutants are not switched on. dashboard and field-names run the handlers in `beforeAll`: code run
 * outside a test makes each mutant it reaches "static", run against every test (it took a run from under an hour to
 * many).
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
