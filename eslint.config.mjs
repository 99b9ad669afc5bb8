// Lint for the whole workspace. Module boundaries follow the tag matrix below:
// apps depend on libs, libs never on apps, contracts on nothing of ours.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.baton', '**/.nx', 'tools/jest/*.js'] },
  {
    // Jest configs are plain config objects, outside any project's type-aware program.
    files: ['**/jest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:bus', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:telemetry'] },
            { sourceTag: 'scope:llm-gateway', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:telemetry'] },
            { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:contracts'] },
            { sourceTag: 'scope:http', onlyDependOnLibsWithTags: ['scope:contracts'] },
            {
              sourceTag: 'scope:persistence',
              onlyDependOnLibsWithTags: ['scope:contracts', 'scope:telemetry', 'scope:bus'],
            },
            {
              sourceTag: 'scope:testing',
              onlyDependOnLibsWithTags: ['scope:contracts', 'scope:telemetry', 'scope:bus', 'scope:persistence'],
            },
            {
              sourceTag: 'scope:e2e',
              onlyDependOnLibsWithTags: ['scope:contracts', 'scope:testing', 'scope:bus', 'scope:llm-gateway'],
            },
            {
              sourceTag: 'scope:service',
              onlyDependOnLibsWithTags: [
                'scope:contracts',
                'scope:telemetry',
                'scope:bus',
                'scope:persistence',
                'scope:testing',
                'scope:llm-gateway',
                'scope:policy',
                'scope:http',
              ],
            },
          ],
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['kafkajs', 'kafkajs/*'], message: 'kafkajs is wrapped by @baton/bus; import that instead.' }],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration once through the validated config.' },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['libs/bus/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Config loaders, tools and tests are the places allowed to read the environment.
    files: [
      '**/config/*.ts',
      '**/*.config.ts',
      'tools/**/*.ts',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      'libs/testing/**/*.ts',
      'libs/telemetry/**/*.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
];
