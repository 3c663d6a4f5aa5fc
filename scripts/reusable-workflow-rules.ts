import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { localTarget } from './workflow-rules';

// A reusable workflow that wraps one of our actions must carry all of it: every input of the action passed through
// (a workflow input of the same name and default, or a fixed value the workflow chooses), every output surfaced, and
// each of them listed in the workflow docs. Without this rule an input added to action.yml is silently missing from
// the path most users take.

/** The page that lists every reusable workflow's inputs, secrets and outputs. */
export const WORKFLOWS_DOC = 'docs/workflows.md';

interface ActionYaml {
  inputs?: Record<string, { required?: boolean; default?: unknown }>;
  outputs?: Record<string, unknown>;
}
interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  outputs?: Record<string, string>;
  steps?: Step[];
}
interface WorkflowCall {
  inputs?: Record<string, { required?: boolean; default?: unknown; type?: string }>;
  secrets?: Record<string, unknown>;
  outputs?: Record<string, { value?: string }>;
}
interface Workflow {
  on?: { workflow_call?: WorkflowCall | null };
  jobs?: Record<string, Job>;
}

const expression = (text: string) => `\${{ ${text} }}`;

/** An action default GitHub would evaluate (`${{ github.token }}`) is not a literal a workflow input can repeat. */
function literalDefault(value: unknown): string | undefined {
  if (value === undefined) return '';
  const text = String(value);
  return text.includes('${{') ? undefined : text;
}

/** The problems of one reusable workflow (none for a workflow without on.workflow_call). */
export function checkReusableWorkflow(root: string, file: string): string[] {
  const workflow = parse(readFileSync(join(root, file), 'utf8')) as Workflow;
  const call = workflow?.on?.workflow_call;
  if (!call) return [];
  const problems: string[] = [];
  for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      const target = step.uses ? localTarget(step.uses) : undefined;
      if (target?.kind !== 'action' || !existsSync(join(root, target.path))) continue;
      const action = parse(readFileSync(join(root, target.path), 'utf8')) as ActionYaml;
      const where = `${file}: job ${jobName} step ${step.id ?? step.uses}`;
      problems.push(...checkInputs(where, target.path, action, step, call));
      problems.push(...checkOutputs(`${file}: job ${jobName}`, target.path, action, step, job, call, jobName));
    }
  }
  return problems;
}

function checkInputs(where: string, actionFile: string, action: ActionYaml, step: Step, call: WorkflowCall): string[] {
  const problems: string[] = [];
  const given = step.with ?? {};
  for (const [name, input] of Object.entries(action.inputs ?? {})) {
    const wanted = literalDefault(input?.default);
    if (!(name in given)) {
      // A required input left out is already reported by the rule for every step (checkWith).
      if (input?.required && input.default === undefined) continue;
      problems.push(
        `${where}: input '${name}' of ${actionFile} is not passed: declare a workflow input '${name}'` +
          `${wanted ? ` (default '${wanted}')` : ''} and pass ${expression(`inputs.${name}`)}, or pass a fixed value`,
      );
      continue;
    }
    if (String(given[name]).trim() !== expression(`inputs.${name}`)) continue;
    const declared = call.inputs?.[name];
    if (!declared) {
      problems.push(`${where}: passes ${expression(`inputs.${name}`)}, but the workflow declares no input '${name}'`);
      continue;
    }
    if (input?.required && input.default === undefined && !declared.required)
      problems.push(`${where}: input '${name}' is required by ${actionFile}, so the workflow input must be required`);
    if (wanted !== undefined && !declared.required && String(declared.default ?? '') !== wanted)
      problems.push(
        `${where}: workflow input '${name}' defaults to '${String(declared.default ?? '')}', ` +
          `but ${actionFile} defaults to '${wanted}'`,
      );
  }
  return problems;
}

function checkOutputs(
  where: string,
  actionFile: string,
  action: ActionYaml,
  step: Step,
  job: Job,
  call: WorkflowCall,
  jobName: string,
): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(action.outputs ?? {})) {
    const fromStep = expression(`steps.${step.id}.outputs.${name}`);
    const fromJob = expression(`jobs.${jobName}.outputs.${name}`);
    if (!step.id) {
      problems.push(`${where}: the step using ${actionFile} needs an id, so that its outputs can be surfaced`);
      break;
    }
    if (job.outputs?.[name]?.trim() !== fromStep)
      problems.push(`${where}: output '${name}' of ${actionFile} is not a job output (${name}: ${fromStep})`);
    if (call.outputs?.[name]?.value?.trim() !== fromJob)
      problems.push(`${where}: output '${name}' of ${actionFile} is not a workflow output (value: ${fromJob})`);
  }
  return problems;
}

/** Every input, secret and output of the reusable workflows must appear (as `name`) in the workflows doc. */
export function checkWorkflowsDoc(root: string, files: string[]): string[] {
  const reusable = files
    .map((file) => ({ file, call: (parse(readFileSync(join(root, file), 'utf8')) as Workflow)?.on?.workflow_call }))
    .filter((entry): entry is { file: string; call: WorkflowCall } => !!entry.call);
  if (reusable.length === 0) return [];
  if (!existsSync(join(root, WORKFLOWS_DOC))) return [`${WORKFLOWS_DOC}: missing; it must list the reusable workflows`];
  const doc = readFileSync(join(root, WORKFLOWS_DOC), 'utf8');
  const problems: string[] = [];
  for (const { file, call } of reusable) {
    const section = sectionOf(doc, file);
    if (section === undefined) {
      problems.push(`${WORKFLOWS_DOC}: has no section for ${file} (a heading naming it)`);
      continue;
    }
    for (const [kind, names] of [
      ['input', Object.keys(call.inputs ?? {})],
      ['secret', Object.keys(call.secrets ?? {})],
      ['output', Object.keys(call.outputs ?? {})],
    ] as const) {
      for (const name of names) {
        if (!section.includes(`\`${name}\``))
          problems.push(`${WORKFLOWS_DOC}: the section of ${file} does not list its ${kind} \`${name}\``);
      }
    }
  }
  return problems;
}

/** The text from the `## ` heading that names `file` to the next `## ` heading. */
function sectionOf(doc: string, file: string): string | undefined {
  const sections = doc.split(/^(?=## )/m);
  return sections.find((section) => section.split('\n', 1)[0]?.includes(file));
}
