export default {
  displayName: 'testing',
  preset: '../../tools/jest/jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
