// The backend under test is chosen by FOCAL_TEST_BACKEND (tensorflow | cpu); `npm test` runs both.
// jest-environment-node-single-context: TypedArrays created by native code (tfjs-node, our addon)
// must pass tfjs-core's `instanceof Float32Array` checks, which fail across jest's per-file realms.
module.exports = {
  testEnvironment: 'jest-environment-node-single-context',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup_backend.ts'],
  testTimeout: 300000,
};
