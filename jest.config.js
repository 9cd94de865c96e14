/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  // middy and a few AWS packages ship ESM only: let swc turn them into CommonJS for jest. swagger-parser is CommonJS
  // but requires json-schema-ref-parser, which is ESM only (`@apidevtools` covers both).
  transformIgnorePatterns: ['/node_modules/(?!(@middy|uuid|fauxqs|@apidevtools)/)'],
  // fauxqs ships ESM only (an `import` export condition): point jest at its entry and let swc compile it.
  moduleNameMapper: { '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 20000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
