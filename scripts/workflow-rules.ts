import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { checkReusableWorkflow, checkWorkflowsDoc } from './reusable-workflow-rules';

/** The name this toolkit is published under: `uses: aws-deploy-kit/aws-deploy-kit[/path]@ref`. */
export const PUBLISHED_AS = 'aws-deploy-kit/aws-deploy-kit';

interface ActionInput {
  required?: boolean;
  default?: unknown;
  description?: string;
}
interface ActionYaml {
  name?: string;
  description?: string;
  inputs?: Record<string, ActionInput>;
  runs?: { using?: string; main?: string; post?: string; pre?: string };
}
interface WorkflowCallInput {
  required?: boolean;
  default?: unknown;
  type?: string;
}
interface Step {
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  name?: string;
}
interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | 'inherit';
  steps?: Step[];
}
interface Workflow {
  on?: unknown;
  jobs?: Record<string, Job>;
}

// Expressions whose values an outsider controls (branch names, PR titles, dispatch inputs): expanded inside a
// `run:` script they become shell code. Route them through `env:` instead.
const untrusted = /\$\{\{[^}]*\b(github\.event\.|github\.head_ref|inputs\.)[^}]*\}\}/;

/** Where a `uses:` points inside this repository, if it is one of ours. */
export function localTarget(uses: string): { kind: 'action' | 'workflow'; path: string } | undefined {
  let path: string;
  if (uses.startsWith('./')) path = uses.slice(2);
  else if (uses.startsWith(`${PUBLISHED_AS}@`)) path = '';
  else if (uses.startsWith(`${PUBLISHED_AS}/`)) path = uses.slice(PUBLISHED_AS.length + 1).replace(/@.*$/, '');
  else return undefined;
  path = path.replace(/\/$/, '');
  if (/\.ya?ml$/.test(path)) return { kind: 'workflow', path };
  return { kind: 'action', path: path === '' ? 'action.yml' : join(path, 'action.yml') };
}

function readYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

/** Checks one action.yml: node24, an existing bundle, kebab-case inputs with descriptions. */
export function checkAction(root: string, file: string): string[] {
  const problems: string[] = [];
  const action = readYaml<ActionYaml>(join(root, file));
  if (!action?.name || !action.description) problems.push(`${file}: needs a name and a description`);
  if (action?.runs?.using !== 'node24')
    problems.push(`${file}: runs.using is ${JSON.stringify(action?.runs?.using)}, expected node24`);
  for (const entry of ['main', 'pre', 'post'] as const) {
    const script = action?.runs?.[entry];
    if (script && !existsSync(join(root, dirname(file), script)))
      problems.push(`${file}: runs.${entry} ${script} does not exist (npm run bundle)`);
  }
  if (!action?.runs?.main) problems.push(`${file}: runs.main is missing`);
  for (const [name, input] of Object.entries(action?.inputs ?? {})) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) problems.push(`${file}: input ${name} is not kebab-case`);
    if (!input?.description) problems.push(`${file}: input ${name} has no description`);
  }
  return problems;
}

function checkWith(
  where: string,
  target: string,
  given: Record<string, unknown> | undefined,
  declared: Record<string, { required?: boolean; default?: unknown }>,
): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(given ?? {})) {
    if (!(key in declared))
      problems.push(
        `${where}: input '${key}' is not an input of ${target} (known: ${Object.keys(declared).join(', ')})`,
      );
  }
  for (const [key, input] of Object.entries(declared)) {
    if (input?.required && input.default === undefined && !(key in (given ?? {}))) {
      problems.push(`${where}: required input '${key}' of ${target} is not passed`);
    }
  }
  return problems;
}

/** Checks one workflow file against our rules. */
export function checkWorkflow(root: string, file: string): string[] {
  const problems: string[] = [];
  const workflow = readYaml<Workflow>(join(root, file));
  for (const [jobName, job] of Object.entries(workflow?.jobs ?? {})) {
    if (job.uses) {
      const target = localTarget(job.uses);
      if (target?.kind === 'workflow') {
        const path = join(root, target.path);
        if (!existsSync(path)) {
          problems.push(`${file}: job ${jobName} calls ${job.uses}, but ${target.path} does not exist`);
        } else {
          const called = readYaml<{
            on?: { workflow_call?: { inputs?: Record<string, WorkflowCallInput>; secrets?: Record<string, unknown> } };
          }>(path);
          const call = called?.on?.workflow_call;
          if (!call) problems.push(`${file}: job ${jobName} calls ${target.path}, which has no on.workflow_call`);
          else {
            problems.push(...checkWith(`${file}: job ${jobName}`, target.path, job.with, call.inputs ?? {}));
            if (job.secrets && job.secrets !== 'inherit') {
              for (const key of Object.keys(job.secrets)) {
                if (!(key in (call.secrets ?? {})))
                  problems.push(`${file}: job ${jobName} passes secret '${key}' that ${target.path} does not declare`);
              }
            }
          }
        }
      }
    }
    for (const [index, step] of (job.steps ?? []).entries()) {
      const where = `${file}: job ${jobName} step ${step.name ?? step.uses ?? index + 1}`;
      if (step.run && untrusted.test(step.run)) {
        problems.push(`${where}: expands ${untrusted.exec(step.run)?.[0]} inside run: route it through env: instead`);
      }
      if (!step.uses) continue;
      const target = localTarget(step.uses);
      if (target?.kind !== 'action') {
        if (
          !step.uses.startsWith('./') &&
          !/@[0-9a-f]{40}$/.test(step.uses) &&
          !step.uses.startsWith(`${PUBLISHED_AS}`) &&
          !step.uses.startsWith('docker://')
        ) {
          problems.push(
            `${where}: third-party action ${step.uses} must be pinned by a full commit SHA (with a # version comment)`,
          );
        }
        continue;
      }
      const path = join(root, target.path);
      if (!existsSync(path)) {
        problems.push(`${where}: uses ${step.uses}, but ${target.path} does not exist`);
        continue;
      }
      const action = readYaml<ActionYaml>(path);
      problems.push(...checkWith(where, target.path, step.with, action?.inputs ?? {}));
    }
  }
  return problems;
}

function yamlFiles(root: string, dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** Every problem in the repository's workflows, templates and action.yml files. */
export function checkRepository(root: string): string[] {
  const problems: string[] = [];
  const actions = [
    'action.yml',
    ...(existsSync(join(root, 'actions'))
      ? readdirSync(join(root, 'actions')).map((d) => join('actions', d, 'action.yml'))
      : []),
  ];
  for (const file of actions.filter((f) => existsSync(join(root, f)))) problems.push(...checkAction(root, file));
  for (const file of [...yamlFiles(root, '.github/workflows'), ...yamlFiles(root, 'workflows')])
    problems.push(...checkWorkflow(root, file), ...checkReusableWorkflow(root, file));
  problems.push(...checkWorkflowsDoc(root, yamlFiles(root, '.github/workflows')));
  return problems;
}
