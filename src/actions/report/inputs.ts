import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, parseRecord } from '../../core/record';
import { resolveService, type Service } from '../../core/service';
import { validateEnvironment } from '../../core/validate';

export interface ReportInputs {
  record: DeployRecord;
  /** Empty when no token was given: the job summary is still written. */
  token: string;
  comment: boolean;
  summary: boolean;
  deployment: boolean;
  environment: string | undefined;
  /** The service reported: the `service` input, else the record's, else the repository's name. */
  service: Service;
}

export function parseReportInputs(read: InputReader, env: NodeJS.ProcessEnv): ReportInputs {
  const p = inputParser(read);
  const record = parseRecord('record', p.required('record', 'the `record` output of an earlier aws-deploy-kit step'));
  const environment = p.optional('environment') ?? record.environment;
  if (environment !== undefined) validateEnvironment('environment', environment);
  return {
    record,
    token: p.optional('github-token') ?? '',
    comment: p.boolean('comment', true),
    summary: p.boolean('summary', true),
    deployment: p.boolean('deployment', true),
    environment,
    service: resolveService('service', p.optional('service'), env, record),
  };
}
