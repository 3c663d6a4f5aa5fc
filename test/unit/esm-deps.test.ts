import * as core from '@actions/core';
import * as github from '@actions/github';

// Guards the jest/swc configuration: the @actions packages are ESM-only and must load under jest.
it('loads the ESM-only @actions packages', () => {
  expect(typeof core.getInput).toBe('function');
  expect(typeof github.getOctokit).toBe('function');
});
