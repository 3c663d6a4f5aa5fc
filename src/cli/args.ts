import { ConfigurationError } from '../core/errors';

export interface ParsedArgs {
  command: string | undefined;
  /** Input values by kebab-case name; repeated flags are joined with newlines (multiline inputs). */
  values: Record<string, string>;
  dryRun: boolean;
  json: boolean;
  help: boolean;
}

const booleanFlags = new Set(['dry-run', 'json', 'help']);

/**
 * `aws-deploy-kit <command> --name value --name=value --flag`: every flag is an input of the matching action, spelled as
 * in its action.yml. Repeating a flag (--tags a --tags b) gives a multiline value, as a YAML block would.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      if (command === undefined) {
        command = arg;
        continue;
      }
      throw new ConfigurationError('arguments', arg, 'options of the form --name value (see --help)');
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (booleanFlags.has(name)) value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--'))
        throw new ConfigurationError(`--${name}`, '', 'a value after the flag');
      value = next;
      i++;
    }
    if (booleanFlags.has(name)) {
      if (value === 'true') flags.add(name);
      // Said outright, `--dry-run=false` reaches the command: ecr-cleanup is a dry run unless told otherwise.
      else if (name === 'dry-run') values[name] = value;
      continue;
    }
    values[name] = name in values ? `${values[name]}\n${value}` : value;
  }
  return { command, values, dryRun: flags.has('dry-run'), json: flags.has('json'), help: flags.has('help') };
}

/** ADK_SERVICE_ARN -> service-arn: inputs may also come from the environment. */
export function inputFromEnv(name: string, env: NodeJS.ProcessEnv): string | undefined {
  return env[`ADK_${name.toUpperCase().replace(/-/g, '_')}`];
}

/** An InputReader over flags, then ADK_* variables; unknown flags are refused so a typo is never ignored. */
export function inputReader(
  values: Record<string, string>,
  known: readonly string[],
  env: NodeJS.ProcessEnv,
): (name: string) => string {
  for (const name of Object.keys(values)) {
    if (!known.includes(name)) {
      throw new ConfigurationError(
        `--${name}`,
        values[name],
        `one of the command's options: ${known.map((k) => `--${k}`).join(', ')}`,
      );
    }
  }
  return (name) => values[name] ?? inputFromEnv(name, env) ?? '';
}
