import type { ECRClient } from '@aws-sdk/client-ecr';
import { describeRepository, ecrClient, promoteImage } from '../../aws/ecr';
import { DeployError } from '../../core/errors';
import { code } from '../../core/markdown';
import { maskAccountIds } from '../account-mask';
import type { ActionDeps } from '../runtime';
import type { PromoteInputs } from './inputs';

export interface PromoteServices {
  ecr?: ECRClient;
}

/** Points tags at an image already in ECR by copying its manifest: no pull, no push, no rebuild. */
export async function execute(deps: ActionDeps, inputs: PromoteInputs, services: PromoteServices = {}): Promise<void> {
  const client = services.ecr ?? ecrClient(inputs.region, deps.env);

  const repo = await describeRepository(client, inputs.repository);
  if (!repo) {
    throw new DeployError(
      `Could not promote ${inputs.source}: the ECR repository ${inputs.repository} does not exist in ${inputs.region}. ` +
        'Check the repository and region inputs (build-push creates the repository with create-repository: true).',
    );
  }
  maskAccountIds(deps, inputs.maskAwsAccountId, repo.uri);
  const result = await promoteImage(client, {
    repository: inputs.repository,
    source: inputs.source,
    tags: inputs.tags,
    logger: deps.logger,
  });
  const registry = repo.uri.split('/')[0] ?? '';
  const image = `${registry}/${inputs.repository}@${result.digest}`;
  deps.setOutput('image', image);
  deps.setOutput('digest', result.digest);
  deps.setOutput('tags', inputs.tags.join('\n'));
  deps.setOutput('registry', registry);
  await deps.writeSummary(
    `### Promoted ${inputs.repository}:${inputs.source}\n\n` +
      `${code(result.digest)} is now tagged ${inputs.tags.map(code).join(' ')}` +
      (result.unchanged.length > 0 ? ` (already there: ${result.unchanged.join(', ')})` : '') +
      '\n',
  );
}
