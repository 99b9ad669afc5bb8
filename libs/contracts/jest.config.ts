export default {
  displayName: 'contracts',
  preset: '../../tools/jest/jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
