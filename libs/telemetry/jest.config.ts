export default {
  displayName: 'telemetry',
  preset: '../../tools/jest/jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
