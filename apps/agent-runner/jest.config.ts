export default {
  displayName: 'agent-runner',
  preset: '../../tools/jest/jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
