// The backend under test is chosen by FOCAL_TEST_BACKEND (tensorflow | cpu); `npm test` runs both.
// Every test module runs in Node's main realm (test/single_context_environment.js: the
// single-context environment, extended to Jest 30's vm.compileFunction): TypedArrays created by
// native code (tfjs-node, our addon) and tfjs's own Variables must pass tfjs-core's `instanceof`
// checks, which fail across jest's per-file realms. test/fresh_tfjs_globals.js gives each file its
// own tfjs engine and registries all the same.
module.exports = {
  testEnvironment: '<rootDir>/test/single_context_environment.js',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/fresh_tfjs_globals.js'],
  setupFilesAfterEnv: ['<rootDir>/test/setup_backend.ts'],
  testTimeout: 300000,
};
