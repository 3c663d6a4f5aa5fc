import { execFileSync } from 'node:child_process';
import { BUILD_FEATURE_INPUTS, ECS_INPUTS } from './actions/pipeline/inputs';
import { run as deploy } from './actions/pipeline/main';
import { run as rollback } from './actions/rollback/main';
import type { ActionDeps } from './actions/runtime';
import { inputReader, parseArgs } from './cli/args';
import { terminalDeps } from './cli/terminal';
import { ConfigurationError } from './core/errors';
import { describeProxy } from './core/proxy';

interface Command {
  summary: string;
  inputs: readonly string[];
  run(deps: ActionDeps, json: boolean): Promise<unknown>;
}

// The inputs of the root action.yml and of actions/rollback/action.yml (a unit test keeps these lists in sync).
export const DEPLOY_INPUTS = [
  'target',
  'repository',
  'environment',
  'service',
  'region',
  'mask-aws-account-id',
  'service-arn',
  'asg-name',
  ...ECS_INPUTS,
  'on-paused',
  'boot-tag',
  'latest-environment',
  'health-url',
  'version-url',
  'expected-version',
  'expected-status',
  'health-timeout-minutes',
  'health-interval-seconds',
  'health-consecutive-successes',
  'rollback-on-failure',
  'commit',
  'context',
  'dockerfile',
  'build-args',
  'build-target',
  'platforms',
  'tags',
  'skip-if-exists',
  'cache',
  'create-repository',
  ...BUILD_FEATURE_INPUTS,
  'min-healthy-percentage',
  'max-healthy-percentage',
  'instance-warmup',
  'checkpoint-percentages',
  'checkpoint-delay',
  'skip-matching',
  'auto-rollback',
  'alarms',
  'bake-time',
  'refresh-bake-time',
  'scale-in-protected-instances',
  'standby-instances',
  'launch-template-version',
  'timeout-minutes',
  'github-token',
  'comment',
  'summary',
  'dry-run',
] as const;
/** `target` and the inputs that name it (the boot tag aside), as the rollback and schedule actions spell them. */
const TARGET_INPUTS = ['target', 'service-arn', 'asg-name', 'cluster', 'ecs-service', 'express-service-arn'] as const;
/** The target's inputs and the ASG's boot tag: what `status` and `ecr-cleanup` read what a target runs with. */
const TARGET_NAMING_INPUTS = [...TARGET_INPUTS, 'boot-tag'] as const;

export const ROLLBACK_INPUTS = [
  'environment',
  'service',
  ...TARGET_INPUTS,
  'repository',
  'to-sha',
  'region',
  'mask-aws-account-id',
  'github-token',
  'boot-tag',
  'health-url',
  'expected-version',
  'health-timeout-minutes',
  'health-interval-seconds',
  'timeout-minutes',
  'dry-run',
] as const;

// The inputs of actions/schedule/action.yml (a unit test keeps this list in sync).
export const SCHEDULE_INPUTS = [
  'mode',
  'environment',
  ...TARGET_INPUTS,
  'region',
  'health-url',
  'expected-status',
  'health-timeout-minutes',
  'health-interval-seconds',
  'health-consecutive-successes',
  'timeout-minutes',
] as const;

/** The inputs of actions/ecr-cleanup/action.yml (a unit test keeps them in sync). */
export const ECR_CLEANUP_INPUTS = [
  'repository',
  'region',
  'github-token',
  'keep-deployments',
  'keep-days',
  'keep-tags',
  'keep-images',
  'include-build-cache',
  'keep-without-history',
  'dry-run',
  'lifecycle-policy',
  'environment',
  ...TARGET_NAMING_INPUTS,
] as const;

/** The options of `aws-deploy-kit status`: `--target` and the inputs that name it add what the target runs now. */
export const STATUS_INPUTS = ['repository', 'region', 'environments', 'service', ...TARGET_NAMING_INPUTS] as const;

/** Outside GitHub Actions the commit is the checkout's HEAD, unless --commit or GITHUB_SHA names one. */
function withLocalCommit(deps: ActionDeps): ActionDeps {
  if (deps.getInput('commit') || deps.env.GITHUB_SHA) return deps;
  let head = '';
  try {
    head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a git checkout: the deploy's own validation asks for --commit.
  }
  return { ...deps, getInput: (name) => (name === 'commit' && head ? head : deps.getInput(name)) };
}

/** GitHub reporting from a laptop works when GITHUB_TOKEN and GITHUB_REPOSITORY are set; it is skipped otherwise. */
function withTokenFromEnv(deps: ActionDeps): ActionDeps {
  return {
    ...deps,
    getInput: (name) => deps.getInput(name) || (name === 'github-token' ? (deps.env.GITHUB_TOKEN ?? '') : ''),
  };
}

const commands: Record<string, Command> = {
  deploy: {
    summary:
      "Build (or reuse) the commit's image, deploy it, verify it, roll back on failure. --dry-run prints the plan.",
    inputs: DEPLOY_INPUTS,
    run: (deps) => deploy(withTokenFromEnv(withLocalCommit(deps))),
  },
  rollback: {
    summary:
      'Put an environment back on its previous good image (or --to-sha), without a rebuild. --dry-run prints the plan.',
    inputs: ROLLBACK_INPUTS,
    run: (deps) => rollback(withTokenFromEnv(deps)),
  },
  promote: {
    summary: 'Point tags at an image already in ECR (by tag or digest) without pulling or pushing it.',
    inputs: ['repository', 'source', 'tags', 'region', 'mask-aws-account-id'],
    // Loaded when run: each command loads only the AWS clients it uses, after its arguments were checked.
    run: async (deps) => (await import(/* webpackMode: "eager" */ './actions/promote/main')).run(deps),
  },
  'ecr-cleanup': {
    summary:
      'Delete the ECR images no rollback needs (pointer tags, verified deployments, recent pushes stay). Dry run unless --dry-run=false.',
    inputs: ECR_CLEANUP_INPUTS,
    run: async (deps) =>
      (await import(/* webpackMode: "eager" */ './actions/ecr-cleanup/main')).run(withTokenFromEnv(deps)),
  },
  schedule: {
    summary:
      'Pause a target off-hours (--mode pause: scale to zero, saved as tags on it) or resume it (--mode resume).',
    inputs: SCHEDULE_INPUTS,
    run: async (deps) => (await import(/* webpackMode: "eager" */ './actions/schedule/main')).run(deps),
  },
  status: {
    summary:
      'Show what each environment runs (its deployed-<env> tag in ECR) and its rollback target; with --target, what the target runs now.',
    inputs: STATUS_INPUTS,
    async run(deps, json) {
      const { renderStatus, runStatus } = await import(/* webpackMode: "eager" */ './cli/status');
      const statuses = await runStatus(deps);
      if (!json) process.stdout.write(`${renderStatus(deps.getInput('repository'), statuses)}\n`);
      return statuses;
    },
  },
};

function usage(): string {
  const lines = [
    'Usage: aws-deploy-kit <command> [--input value ...] [--json] [--dry-run]',
    '',
    'Every --input is the action input of the same name (see README); ADK_<INPUT_NAME> environment variables work too',
    '(e.g. ADK_REPOSITORY=web). AWS credentials and region come from the usual AWS environment and config files.',
    '',
    'Commands:',
  ];
  for (const [name, command] of Object.entries(commands)) {
    lines.push(`  ${name.padEnd(12)} ${command.summary}`);
    lines.push(`  ${''.padEnd(12)} options: ${command.inputs.map((i) => `--${i}`).join(' ')}`);
  }
  return lines.join('\n');
}

function stdoutToStderr(): () => void {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

/** Runs the CLI; returns the process exit code (0 done, 1 deploy failure, 2 usage or configuration error). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.help || !args.command) {
      process.stdout.write(`${usage()}\n`);
      return args.command || args.help ? 0 : 2;
    }
    const command = commands[args.command];
    if (!command) throw new ConfigurationError('command', args.command, `one of ${Object.keys(commands).join(', ')}`);
    if (args.dryRun && !command.inputs.includes('dry-run'))
      throw new ConfigurationError('--dry-run', 'true', `a flag of deploy and rollback only, not of ${args.command}`);
    const values = { ...args.values, ...(args.dryRun ? { 'dry-run': 'true' } : {}) };
    const { deps, outputs } = terminalDeps(inputReader(values, command.inputs, env), env);
    const proxy = describeProxy();
    if (proxy) deps.logger.info(proxy);
    // With --json, stdout carries the JSON only: whatever the steps print (docker's build output among it) goes to stderr.
    const restoreStdout = args.json ? stdoutToStderr() : () => {};
    let result: unknown;
    try {
      result = await command.run(deps, args.json);
    } finally {
      restoreStdout();
    }
    if (args.json) process.stdout.write(`${JSON.stringify(result ?? outputs, null, 2)}\n`);
    else
      for (const [name, value] of Object.entries(outputs))
        if (name !== 'record') process.stdout.write(`${name}: ${value}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    return error instanceof ConfigurationError ? 2 : 1;
  }
}

// Bundled as dist/cli/index.js and run directly; jest imports main() without running it.
if (!process.env.JEST_WORKER_ID) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
