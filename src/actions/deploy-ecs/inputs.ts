import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, newRecord, parseRecord, runFromEnv } from '../../core/record';
import { stampService } from '../../core/service';
import { commitContextFromEnv, commitOf } from '../../core/tags';
import { parseDigestUri, validateEnvironment, validateRegion } from '../../core/validate';
import { parseAlarmSelector } from '../../deploy/bake';
import { ON_PAUSED_CHOICES, type OnPaused } from '../../deploy/paused';
import { type ExpectedVersion, parseExpectedVersion } from '../../deploy/verify';
import type { EcsExpressSettings, EcsOnBusy, EcsSettings, TaskDefinitionFile } from '../../targets/ecs/settings';
import type { ImageByDigest } from '../../targets/target';
import { parseMaskAccountId } from '../account-mask';
import { type BakeInputs, parseBakeInputs } from '../bake-step';
import { parseVerifyTimings } from '../health-check/inputs';

/** The two ECS target kinds, as deploy-ecs (and the all-in-one and rollback actions) parse them. */
export type EcsTargetSpec = ({ kind: 'ecs' } & EcsSettings) | ({ kind: 'ecs-express' } & EcsExpressSettings);

export interface DeployEcsInputs {
  /** `ecs` when ecs-service is set, `ecs-express` when express-service-arn is. */
  target: EcsTargetSpec;
  image: ImageByDigest;
  region: string;
  timeoutMs: number;
  /** A URL, or (ecs-express) a path on the Express service's URL; undefined: the target's default path there. */
  healthUrl?: string;
  /** undefined: health-url's origin + /version. */
  versionUrl?: string;
  /** `sha`: the record's commit; a string: that string; undefined: no version check. */
  expectedVersion?: ExpectedVersion;
  expectedStatus: number;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  consecutiveSuccesses: number;
  rollbackOnFailure: boolean;
  /** A target the schedule paused: fail before changing anything (default), or resume it first. */
  onPaused: OnPaused;
  /** The record given as input, or a new one for this commit. */
  record: DeployRecord;
  environment?: string;
  /** `alarms` and `bake-time`: watched after the verification. */
  bake: BakeInputs;
  /** mask-aws-account-id: the account IDs of the ARNs and the registry are masked in the log. */
  maskAwsAccountId: boolean;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const PARTITION = 'arn:aws(?:-cn|-us-gov)?:ecs:([a-z0-9-]+):(\\d{12})';
const CLUSTER_ARN = new RegExp(`^${PARTITION}:cluster\\/([A-Za-z0-9_-]{1,255})$`);
// `service/<cluster>/<name>` since the long ARN format (2018); `service/<name>` for services created before it.
const SERVICE_ARN = new RegExp(`^${PARTITION}:service\\/(?:([A-Za-z0-9_-]{1,255})\\/)?([A-Za-z0-9_-]{1,255})$`);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const CLUSTER_ACCEPTED =
  'an ECS cluster name (1-255 letters, digits, - and _) or a cluster ARN such as ' +
  '"arn:aws:ecs:us-east-1:123456789012:cluster/web"';
const serviceAccepted = (what: string) =>
  `${what} such as "arn:aws:ecs:us-east-1:123456789012:service/<cluster>/<service>"`;

/** What a cluster or service input names, and the region and cluster its ARN gives. */
interface Named {
  name: string;
  region?: string;
  cluster?: string;
}

export function parseCluster(input: string, value: string): Named {
  if (NAME.test(value)) return { name: value };
  const arn = CLUSTER_ARN.exec(value);
  if (!arn) throw new ConfigurationError(input, value, CLUSTER_ACCEPTED);
  return { name: arn[3]!, region: arn[1]!, cluster: arn[3]! };
}

export function parseServiceArn(input: string, value: string, what: string): Named {
  const arn = SERVICE_ARN.exec(value);
  if (!arn) throw new ConfigurationError(input, value, serviceAccepted(what));
  return { name: arn[4]!, region: arn[1]!, ...(arn[3] ? { cluster: arn[3] } : {}) };
}

function parseService(input: string, value: string): Named {
  if (NAME.test(value)) return { name: value };
  return parseServiceArn(input, value, 'an ECS service name (1-255 letters, digits, - and _) or a service ARN');
}

/**
 * Which ECS target the inputs name: `ecs-service` (with `cluster`) or `express-service-arn`, one of the two. The
 * cluster a service ARN names must be the cluster input's, when that is given. Returns the region the ARNs name.
 */
export function parseEcsTargetName(read: InputReader):
  | { kind: 'ecs'; cluster: string; service: string; region?: string }
  | {
      kind: 'ecs-express';
      serviceArn: string;
      region: string;
    } {
  const p = inputParser(read);
  const serviceText = p.optional('ecs-service');
  const expressText = p.optional('express-service-arn');
  const clusterText = p.optional('cluster');
  if (serviceText !== undefined && expressText !== undefined) {
    throw new ConfigurationError(
      'express-service-arn',
      expressText,
      'empty when ecs-service is set: name either an ECS service (ecs-service, with cluster) or an ECS Express ' +
        'Mode service (express-service-arn), not both',
    );
  }
  if (expressText !== undefined) {
    const express = parseServiceArn('express-service-arn', expressText, 'an ECS Express Mode service ARN');
    if (clusterText !== undefined) {
      throw new ConfigurationError(
        'cluster',
        clusterText,
        'empty with express-service-arn: the Express service ARN names its cluster itself',
      );
    }
    return { kind: 'ecs-express', serviceArn: expressText, region: express.region! };
  }
  if (serviceText === undefined) {
    throw new ConfigurationError(
      'ecs-service',
      '',
      'the ECS service to deploy to (a name, with cluster, or a service ARN), or else express-service-arn for an ' +
        'ECS Express Mode service',
    );
  }
  const service = parseService('ecs-service', serviceText);
  const cluster = clusterText === undefined ? undefined : parseCluster('cluster', clusterText);
  if (cluster && service.cluster && cluster.name !== service.cluster) {
    throw new ConfigurationError(
      'cluster',
      clusterText,
      `the cluster named in ecs-service (${service.cluster}), or empty`,
    );
  }
  if (cluster?.region && service.region && cluster.region !== service.region) {
    throw new ConfigurationError('cluster', clusterText, `a cluster in ecs-service's region (${service.region})`);
  }
  const region = service.region ?? cluster?.region;
  return {
    kind: 'ecs',
    cluster: clusterText ?? service.cluster ?? 'default',
    service: serviceText,
    ...(region ? { region } : {}),
  };
}

/** `container-environment`: NAME=value lines, empty lines ignored; a name given twice is refused. */
export function parseContainerEnvironment(input: string, text: string): Record<string, string> | undefined {
  const variables: Record<string, string> = {};
  let any = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const name = eq === -1 ? line : line.slice(0, eq);
    if (eq === -1 || !ENV_NAME.test(name)) {
      throw new ConfigurationError(
        input,
        line,
        'one NAME=value per line, NAME made of letters, digits and _ and not starting with a digit',
      );
    }
    if (Object.hasOwn(variables, name)) {
      throw new ConfigurationError(input, name, 'each variable name once (it is set twice)');
    }
    variables[name] = line.slice(eq + 1);
    any = true;
  }
  return any ? variables : undefined;
}

/**
 * `task-definition`: a JSON file inside the workspace (GITHUB_WORKSPACE, else the working directory), read and
 * checked now so that a typo fails before any AWS call. Symbolic links are followed before the check.
 */
export function readTaskDefinitionFile(input: string, given: string, env: NodeJS.ProcessEnv): TaskDefinitionFile {
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  const inside = (root: string, path: string) => {
    const rel = relative(root, path);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  const where = `a path to a task definition JSON file inside the workspace (${workspace})`;
  const path = resolve(workspace, given);
  if (!inside(workspace, path)) throw new ConfigurationError(input, given, where);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ConfigurationError(input, given, `${where}; no such file (was it checked out?)`);
  }
  if (!inside(realpathSync(workspace), realpathSync(path))) {
    throw new ConfigurationError(input, given, `${where}; this one links outside it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(input, given, `a file of valid JSON (${(error as Error).message})`);
  }
  const object = typeof json === 'object' && json !== null && !Array.isArray(json);
  const td = json as Record<string, unknown>;
  if (!object || typeof td.family !== 'string' || td.family === '' || !Array.isArray(td.containerDefinitions)) {
    throw new ConfigurationError(
      input,
      given,
      'a task definition: a JSON object with "family" and "containerDefinitions" (as `aws ecs ' +
        'describe-task-definition --query taskDefinition` prints it)',
    );
  }
  return { path: relative(workspace, path), json: td };
}

/** The ECS target's settings from the inputs: parsed here for deploy-ecs and handed on by the all-in-one action. */
export function parseEcsTarget(read: InputReader, env: NodeJS.ProcessEnv): { spec: EcsTargetSpec; region?: string } {
  const p = inputParser(read);
  const named = parseEcsTargetName(read);
  const onBusy = p.oneOf<EcsOnBusy>('on-busy', ['wait', 'fail', 'stop'], 'wait');
  const cancelOnAbort = p.boolean('cancel-on-abort', true);
  const environmentText = read('container-environment');
  const containerEnvironment = parseContainerEnvironment('container-environment', environmentText);
  const container = p.optional('container');
  const taskDefinition = p.optional('task-definition');
  if (named.kind === 'ecs-express') {
    for (const [input, value] of [
      ['container', container],
      ['task-definition', taskDefinition],
    ] as const) {
      if (value !== undefined) {
        throw new ConfigurationError(
          input,
          value,
          'empty with express-service-arn: an Express service has one primary container and keeps its own settings',
        );
      }
    }
    return {
      spec: {
        kind: 'ecs-express',
        serviceArn: named.serviceArn,
        onBusy,
        cancelOnAbort,
        ...(containerEnvironment ? { containerEnvironment } : {}),
      },
      region: named.region,
    };
  }
  if (container !== undefined && !NAME.test(container)) {
    throw new ConfigurationError('container', container, 'a container name: 1-255 letters, digits, - and _');
  }
  const taskDefinitionFile =
    taskDefinition === undefined ? undefined : readTaskDefinitionFile('task-definition', taskDefinition, env);
  // The alarm names (not prefixes) also go to the service's own deployment alarms, watched during the rollout.
  const deploymentAlarms = parseAlarmSelector('alarms', p.list('alarms')).names;
  return {
    spec: {
      kind: 'ecs',
      cluster: named.cluster,
      service: named.service,
      onBusy,
      cancelOnAbort,
      ...(container ? { container } : {}),
      ...(taskDefinitionFile ? { taskDefinitionFile } : {}),
      ...(containerEnvironment ? { containerEnvironment } : {}),
      ...(deploymentAlarms.length > 0 ? { deploymentAlarms } : {}),
    },
    ...(named.region ? { region: named.region } : {}),
  };
}

/** An http(s) URL, or (when allowed) a path on the service's URL. */
export function checkHealthUrl(input: string, value: string, allowPath: boolean): string {
  if (allowPath && value.startsWith('/')) return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigurationError(
      input,
      value,
      allowPath
        ? 'an http:// or https:// URL, or a path on the Express service URL such as /health'
        : "an http:// or https:// URL through the service's load balancer, e.g. https://web.example.com/health",
    );
  }
  return value;
}

/** Parses and checks every input, and reads the task-definition file, before any AWS call. */
export function parseDeployEcsInputs(read: InputReader, env: NodeJS.ProcessEnv): DeployEcsInputs {
  const p = inputParser(read);
  const { spec, region: arnRegion } = parseEcsTarget(read, env);
  const imageText = p.required('image', 'the image digest URI "<registry>/<repository>@sha256:<64 hex>"');
  const parsed = parseDigestUri(
    'image',
    imageText,
    'since a task definition revision must name one exact image: a moved tag must change neither what a scale-out ' +
      'starts nor what a rollback goes back to',
  );
  // Without the tag: the revision names the digest alone.
  const image: ImageByDigest = {
    uri: `${parsed.registry}/${parsed.repository}@${parsed.digest}`,
    repository: parsed.repository,
    digest: parsed.digest,
  };
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );

  const healthText = p.optional('health-url');
  if (spec.kind === 'ecs' && healthText === undefined) {
    throw new ConfigurationError(
      'health-url',
      '',
      "a URL through the service's load balancer, e.g. https://web.example.com/health (ECS gives a service no URL " +
        'of its own)',
    );
  }
  const healthUrl =
    healthText === undefined ? undefined : checkHealthUrl('health-url', healthText, spec.kind !== 'ecs');
  const versionText = p.optional('version-url');
  const versionUrl = versionText === undefined ? undefined : checkHealthUrl('version-url', versionText, false);
  const expectedText = p.optional('expected-version');

  const recordText = p.optional('record');
  const record = recordText
    ? parseRecord('record', recordText)
    : newRecord(commitOf(commitContextFromEnv(env)), { run: runFromEnv(env) });
  stampService(p.optional('service'), env, record);
  const environmentText = p.optional('environment');
  const environment = environmentText === undefined ? undefined : validateEnvironment('environment', environmentText);

  const timeoutMinutes = p.number('timeout-minutes', 30, 0.1, 360);
  return {
    target: spec,
    image,
    region,
    timeoutMs: timeoutMinutes * 60_000,
    bake: parseBakeInputs(p, timeoutMinutes),
    ...(healthUrl ? { healthUrl } : {}),
    ...(versionUrl ? { versionUrl } : {}),
    ...(expectedText === undefined ? {} : { expectedVersion: parseExpectedVersion(expectedText) }),
    ...parseVerifyTimings(p),
    rollbackOnFailure: p.boolean('rollback-on-failure', true),
    onPaused: p.oneOf('on-paused', ON_PAUSED_CHOICES, 'fail'),
    record,
    ...(environment ? { environment } : {}),
    maskAwsAccountId: parseMaskAccountId(p),
  };
}
