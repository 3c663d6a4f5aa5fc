// @actions/* 3.x, @octokit/* and a few of their dependencies ship ESM only; swc turns them (and our
// TypeScript) into CommonJS so jest can load them without --experimental-vm-modules.
const esmOnly = [
  '@actions',
  '@octokit',
  'universal-user-agent',
  'before-after-hook',
  'fast-content-type-parse',
  'content-type',
  'json-with-bigint',
];

// The SDK warns on every run under Node 20 that its 2027 releases need Node 22; the bundles themselves run on node24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const shared = {
  testEnvironment: 'node',
  // The ESM-only packages resolve through their "import" export condition; swc then turns them into CommonJS.
  resolver: '<rootDir>/test/jest-resolver.cjs',
  transform: {
    '^.+\\.(t|j|mj)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

/** @type {import('jest').Config} */
module.exports = {
  // A global option: jest ignores testTimeout inside `projects`. Sandbox and e2e tests start real processes.
  testTimeout: 300_000,
  // The sandbox and e2e files spend most of their time waiting on real processes (tasks, health checks, polls), so
  // two files at once even on a 2-core machine, where jest's default (cores - 1) would run them one after another.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...shared, displayName: 'sandbox', testMatch: ['<rootDir>/test/sandbox/**/*.test.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
