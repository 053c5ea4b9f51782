// Lint: keeps shared/ free of platform code and catches floating promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const platformImports = {
  patterns: [
    { group: ['node:*'], message: 'shared/ is isomorphic: no node:* imports (put platform code in node-peer/).' },
    { group: ['werift', 'werift/*', 'werift-*', 'node-datachannel', 'node-datachannel/*'], message: 'shared/ must not import a WebRTC stack.' },
    { group: ['idb', 'idb/*'], message: 'shared/ must not import idb (put it in web/).' },
    { group: ['lit', 'lit/*', '@lit/*'], message: 'shared/ must not import lit (put it in web/).' },
    { group: ['hls.js', 'hls.js/*'], message: 'shared/ must not import hls.js (put it in web/).' },
  ],
  paths: ['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'stream', 'zlib', 'worker_threads', 'url', 'buffer', 'events', 'util', 'dgram', 'dns', 'tls', 'readline'].map((name) => ({
    name,
    message: 'shared/ is isomorphic: no Node built-ins.',
  })),
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'public/**', '.stateos/**', 'bench/results.json', 'tests/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', platformImports] },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
