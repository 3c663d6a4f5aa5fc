import { ConfigurationError } from './errors';
import type { DeployRecord } from './record';

/**
 * The service a step deploys: one of the services of an environment (a repository with a frontend and a backend
 * deploys two to `staging`). It keys the GitHub Deployment, the comment's row, the rollback history and the ECR
 * pointer tags, so a deploy of one service never reads or moves the other's.
 */
export interface Service {
  name: string;
  /**
   * True for the service named after the repository (the default). It keeps the names used before services
   * existed: the pointer tags `deployed-<env>` / `previous-<env>`, the Deployment task `deploy`, and records that
   * name no service belong to it.
   */
  isDefault: boolean;
}

const servicePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const accepted =
  'a service name of 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or a digit (e.g. "backend")';

/** The default service's name: the repository's (`owner/name` → `name`), made a valid service name. */
export function defaultServiceName(env: NodeJS.ProcessEnv): string | undefined {
  const name = env.GITHUB_REPOSITORY?.split('/')[1]?.trim();
  if (!name) return undefined;
  const cleaned = name
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return cleaned || undefined;
}

export function validateServiceName(input: string, value: string): string {
  if (!servicePattern.test(value)) throw new ConfigurationError(input, value, accepted);
  return value;
}

/**
 * The service of a step: the `service` input, else the record's (a later step of the same deploy), else the
 * repository's name. A `service` that contradicts the record is refused: the record would be reported (and rolled
 * back) as another service's.
 */
export function resolveService(
  input: string,
  given: string | undefined,
  env: NodeJS.ProcessEnv,
  record?: DeployRecord,
): Service {
  const fallback = defaultServiceName(env);
  const name = given === undefined ? (record?.service ?? fallback) : validateServiceName(input, given);
  if (given !== undefined && record?.service !== undefined && record.service !== name) {
    throw new ConfigurationError(
      input,
      given,
      `the service of the record it continues ("${record.service}"), or leave ${input} empty to use it`,
    );
  }
  if (name === undefined) return { name: 'default', isDefault: true };
  return { name, isDefault: name === fallback };
}

/**
 * Whether a record belongs to `service`. A record from before services existed names none: it is the default
 * service's, the only one there was.
 */
export function recordBelongsTo(record: Pick<DeployRecord, 'service'>, service: Service): boolean {
  return record.service === undefined ? service.isDefault : record.service === service.name;
}

/**
 * Resolves the step's service (resolveService, input `service`) and writes it into the record, so that every record
 * written from now on names its service.
 */
export function stampService(given: string | undefined, env: NodeJS.ProcessEnv, record: DeployRecord): Service {
  const service = resolveService('service', given, env, record);
  record.service = service.name;
  return service;
}
