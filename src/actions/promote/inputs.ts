import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { validateDigest, validateRegion, validateRepositoryName, validateTag } from '../../core/validate';
import { parseMaskAccountId } from '../account-mask';

export interface PromoteInputs {
  repository: string;
  region: string;
  /** A tag or a `sha256:` digest. */
  source: string;
  tags: string[];
  /** mask-aws-account-id: the account ID of the registry is masked in the log. */
  maskAwsAccountId: boolean;
}

export function parsePromoteInputs(read: InputReader, env: NodeJS.ProcessEnv): PromoteInputs {
  const p = inputParser(read);
  const repository = validateRepositoryName('repository', p.required('repository', 'an ECR repository name'));
  const region = validateRegion('region', p.optional('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  const source = p.required('source', 'an image tag (e.g. "sha-<commit>") or digest ("sha256:…")');
  if (source.startsWith('sha256:')) validateDigest('source', source);
  else validateTag('source', source);
  const tags: string[] = [];
  for (const tag of p.list('tags')) {
    validateTag('tags', tag);
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length === 0) throw new ConfigurationError('tags', '', 'one or more target tags, one per line');
  return { repository, region, source, tags, maskAwsAccountId: parseMaskAccountId(p) };
}
