export default {
  displayName: 'router',
  preset: '../../tools/jest/jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
