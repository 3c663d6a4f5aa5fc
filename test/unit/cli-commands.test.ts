import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ActionDeps } from '../../src/actions/runtime';
import { DEPLOY_INPUTS, ECR_CLEANUP_INPUTS, ROLLBACK_INPUTS, SCHEDULE_INPUTS, STATUS_INPUTS } from '../../src/cli';
import { renderStatus, runStatus } from '../../src/cli/status';
import { ConfigurationError } from '../../src/core/errors';

function inputsOf(file: string): string[] {
  return Object.keys((parse(readFileSync(file, 'utf8')) as { inputs: Record<string, unknown> }).inputs).sort();
}

describe('CLI commands take the same options as the actions', () => {
  it('deploy takes every input of the all-in-one action.yml', () => {
    expect([...DEPLOY_INPUTS].sort()).toEqual(inputsOf('action.yml'));
  });

  it('schedule takes every input of actions/schedule/action.yml', () => {
    expect([...SCHEDULE_INPUTS].sort()).toEqual(inputsOf('actions/schedule/action.yml'));
  });

  it('rollback takes every input of actions/rollback/action.yml', () => {
    expect([...ROLLBACK_INPUTS].sort()).toEqual(inputsOf('actions/rollback/action.yml'));
  });

  it('ecr-cleanup takes every input of actions/ecr-cleanup/action.yml', () => {
    expect([...ECR_CLEANUP_INPUTS].sort()).toEqual(inputsOf('actions/ecr-cleanup/action.yml'));
  });
});

describe('status --target', () => {
  const deps = (inputs: Record<string, string>) =>
    ({ getInput: (name: string) => inputs[name] ?? '', env: { AWS_REGION: 'us-east-1' } }) as unknown as ActionDeps;

  it('takes the inputs that name a target as rollback does', () => {
    const naming = ['target', 'service-arn', 'asg-name', 'boot-tag', 'cluster', 'ecs-service', 'express-service-arn'];
    expect(STATUS_INPUTS).toEqual(expect.arrayContaining(naming));
    expect(ROLLBACK_INPUTS).toEqual(expect.arrayContaining(naming));
  });

  it.each([
    [{ target: 'ecs', 'ecs-service': 'web', environments: 'staging,production' }, 'environments'],
    [{ target: 'ecs', environments: 'staging' }, 'ecs-service'],
    [{ target: 'ecs-express', 'express-service-arn': 'web', environments: 'staging' }, 'express-service-arn'],
    [{ target: 'ecs', 'ecs-service': 'web', 'asg-name': 'web-asg', environments: 'staging' }, 'asg-name'],
    [{ target: 'lambda', environments: 'staging' }, 'target'],
  ])('refuses %j before any AWS call', async (inputs, input) => {
    const error = await runStatus(deps({ repository: 'web', ...inputs })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
  });

  it('renders what the target runs now', () => {
    const text = renderStatus('web', [
      {
        environment: 'staging',
        runsNow: { target: 'ECS service web', image: 'x', commit: 'a'.repeat(40), digest: `sha256:${'b'.repeat(64)}` },
      },
    ]);
    expect(text).toContain(`runs now         ${'a'.repeat(12)} sha256:bbbbbbbbbbbb… (ECS service web)`);
  });
});
