import { run as promote } from './actions/promote/main';
import type { ActionDeps } from './actions/runtime';
import { inputReader, parseArgs } from './cli/args';
import { renderStatus, runStatus, STATUS_INPUTS } from './cli/status';
import { terminalDeps } from './cli/terminal';
import { ConfigurationError } from './core/errors';

interface Command {
  summary: string;
  inputs: readonly string[];
  run(deps: ActionDeps, json: boolean): Promise<unknown>;
}

const commands: Record<string, Command> = {
  promote: {
    summary: 'Point tags at an image already in ECR (by tag or digest) without pulling or pushing it.',
    inputs: ['repository', 'source', 'tags', 'region'],
    run: (deps) => promote(deps),
  },
  status: {
    summary: 'Show what each environment runs (its deployed-<env> tag in ECR) and its rollback target.',
    inputs: STATUS_INPUTS,
    async run(deps, json) {
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
    lines.push(`  ${name.padEnd(10)} ${command.summary}`);
    lines.push(`  ${''.padEnd(10)} options: ${command.inputs.map((i) => `--${i}`).join(' ')}`);
  }
  return lines.join('\n');
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
    const values = { ...args.values, ...(args.dryRun ? { 'dry-run': 'true' } : {}) };
    const known = args.dryRun ? [...command.inputs, 'dry-run'] : command.inputs;
    const { deps, outputs } = terminalDeps(inputReader(values, known, env), env);
    const result = await command.run(deps, args.json);
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
