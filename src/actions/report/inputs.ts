import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, parseRecord } from '../../core/record';
import { validateEnvironment } from '../../core/validate';

export interface ReportInputs {
  record: DeployRecord;
  /** Empty when no token was given: the job summary is still written. */
  token: string;
  comment: boolean;
  summary: boolean;
  deployment: boolean;
  environment: string | undefined;
}

export function parseReportInputs(read: InputReader): ReportInputs {
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
  };
}
