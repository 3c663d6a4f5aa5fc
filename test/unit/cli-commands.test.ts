import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEPLOY_INPUTS, ROLLBACK_INPUTS } from '../../src/cli';

function inputsOf(file: string): string[] {
  return Object.keys((parse(readFileSync(file, 'utf8')) as { inputs: Record<string, unknown> }).inputs).sort();
}

describe('CLI commands take the same options as the actions', () => {
  it('deploy takes every input of the all-in-one action.yml', () => {
    expect([...DEPLOY_INPUTS].sort()).toEqual(inputsOf('action.yml'));
  });

  it('rollback takes every input of actions/rollback/action.yml', () => {
    expect([...ROLLBACK_INPUTS].sort()).toEqual(inputsOf('actions/rollback/action.yml'));
  });
});
