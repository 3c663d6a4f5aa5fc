import type { ECRClient } from '@aws-sdk/client-ecr';
import { targetContext } from '../actions/compose';
import { parseTargetOf } from '../actions/rollback/inputs';
import type { ActionDeps } from '../actions/runtime';
import { ecrClient } from '../aws/ecr';
import { ConfigurationError } from '../core/errors';
import { inputParser } from '../core/input';
import { resolveService, type Service } from '../core/service';
import { validateRegion, validateRepositoryName } from '../core/validate';
import { type PointedImage, readPointers } from '../deploy/pointers';
import { openTarget } from '../targets';

export interface EnvironmentStatus {
  environment: string;
  /** With --target: what the target runs now, as the platform says (which may differ from the pointer tag). */
  runsNow?: { target: string; image: string; commit?: string; digest?: string };
  deployed?: { commit?: string; digest: string };
  rollbackTarget?: { commit?: string; digest: string };
}

function view(image: PointedImage): { commit?: string; digest: string } {
  return { digest: image.digest, ...(image.commit ? { commit: image.commit } : {}) };
}

/** What each environment verifiably runs (its deployed-<env> tag in ECR) and where a rollback would take it. */
export async function environmentStatus(
  client: ECRClient,
  repository: string,
  environments: readonly string[],
  service?: Service,
): Promise<EnvironmentStatus[]> {
  return Promise.all(
    environments.map(async (environment) => {
      const { current, previous } = await readPointers(client, repository, environment, service);
      const status: EnvironmentStatus = { environment };
      if (current) status.deployed = view(current);
      if (previous && previous.digest !== current?.digest) status.rollbackTarget = view(previous);
      return status;
    }),
  );
}

export function renderStatus(repository: string, statuses: readonly EnvironmentStatus[]): string {
  const short = (image?: { commit?: string; digest: string }) =>
    image ? `${image.commit?.slice(0, 12) ?? '(no sha- tag)'} ${image.digest.slice(0, 19)}…` : '—';
  const lines = [`${repository}`];
  for (const s of statuses) {
    lines.push(`  ${s.environment}`);
    if (s.runsNow) {
      const { target, image, commit, digest } = s.runsNow;
      lines.push(
        `    runs now         ${digest ? short({ digest, ...(commit ? { commit } : {}) }) : image} (${target})`,
      );
    }
    lines.push(`    deployed         ${short(s.deployed)}`);
    lines.push(`    rollback target  ${short(s.rollbackTarget)}`);
  }
  return lines.join('\n');
}

/**
 * `aws-deploy-kit status`: needs only ECR read access (ecr:DescribeImages); with --target (one environment), also the
 * platform's read calls for what it runs now.
 */
export async function runStatus(
  deps: ActionDeps,
  services: { ecr?: ECRClient; clients?: Record<string, unknown> } = {},
): Promise<EnvironmentStatus[]> {
  const p = inputParser(deps.getInput);
  const repository = validateRepositoryName('repository', p.required('repository', 'an ECR repository name'));
  const environments = p.list('environments');
  if (environments.length === 0)
    throw new ConfigurationError('environments', '', 'one or more environment names, e.g. staging,production');
  const named = p.optional('target') === undefined ? undefined : parseTargetOf(deps.getInput, environments[0]!);
  if (named && environments.length > 1) {
    throw new ConfigurationError(
      'environments',
      environments.join(','),
      'one environment with --target (the target runs one environment)',
    );
  }
  const region = validateRegion(
    'region',
    p.optional('region') ?? named?.region ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION,
  );
  const client = services.ecr ?? ecrClient(region, deps.env);
  const service = resolveService('service', p.optional('service'), deps.env);
  const statuses = await environmentStatus(client, repository, environments, service);
  if (named) {
    const target = await openTarget(named.target, targetContext(deps, region, client, services));
    const current = await target.current(repository);
    statuses[0]!.runsNow = {
      target: current.label,
      image: current.running.reference,
      ...(current.running.commit ? { commit: current.running.commit } : {}),
      ...(current.running.digest ? { digest: current.running.digest } : {}),
    };
  }
  return statuses;
}
