import { bullets, facts, inline, quote } from '../../core/markdown';
import type { DeployRecord } from '../../core/record';
import { describeRunning, type RollbackPlan, short } from '../../deploy/rollback-plan';
import type { CurrentState } from '../../targets/target';
import type { RollbackInputs } from './inputs';

const sourceNames: Record<RollbackPlan['source'], string> = {
  'to-sha': 'the commit named in to-sha',
  'github-deployment': 'the previous verified GitHub deployment',
  'ecr-pointer': 'the ECR pointer tag (no GitHub deployments used)',
};

/** The job summary: what ran, what runs now, where the target came from, what was passed over. */
export function rollbackSummary(view: {
  inputs: RollbackInputs;
  current: CurrentState;
  plan: RollbackPlan;
  image: string;
  record?: DeployRecord;
}): string {
  const { inputs, current, plan, record } = view;
  const title = record
    ? `Rollback of ${where(inputs)}: ${record.outcome === 'succeeded' ? '✅ back on' : '❌ failed to go back to'} ${short(plan.commit)}`
    : `Rollback of ${where(inputs)} (dry run: nothing changed): would go back to ${short(plan.commit)}`;
  const rows: [string, string][] = [
    ['Target', current.label],
    ['Was running', describeRunning(current.running)],
    ['Rolled back to', `commit \`${plan.commit}\`, ${view.image}`],
    ['Chosen from', `${sourceNames[plan.source]}: ${plan.from}`],
    ...(current.url ? [['Service URL', current.url] as [string, string]] : []),
    ...(record?.health
      ? [
          [
            'Health',
            `${record.health.healthy ? 'healthy' : 'unhealthy'} at ${record.health.url} after ${record.health.attempts} attempt(s)`,
          ] as [string, string],
        ]
      : []),
    ...(record ? [['Outcome', record.outcome] as [string, string]] : []),
  ];
  const notes = plan.notes.length > 0 ? `\n**Passed over / notes**\n\n${bullets(plan.notes)}\n` : '';
  const error = record?.error ? `\n${quote(record.error)}\n` : '';
  return `### ${inline(title)}\n\n${facts(rows)}\n${notes}${error}`;
}

/** The environment, and the service when it is not the default one. */
function where(inputs: RollbackInputs): string {
  return `${inputs.environment}${inputs.service.isDefault ? '' : ` · ${inputs.service.name}`}`;
}
