import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { type DeployRecord, parseRecord } from '../../core/record';

export interface ReportInputs {
  record: DeployRecord;
  /** Empty when no token was given: the job summary is still written. */
  token: string;
  comment: boolean;
  summary: boolean;
  deployment: boolean;
  environment: string | undefined;
}

/** GitHub environment names: up to 255 printable characters, no commas/semicolons/quotes/angle brackets. */
const environmentPattern = /^[^,;'"`<>\\\p{Cc}]{1,255}$/u;

export function parseReportInputs(read: InputReader): ReportInputs {
  const p = inputParser(read);
  const record = parseRecord('record', p.required('record', 'the `record` output of an earlier aws-deploy-kit step'));
  const environment = p.optional('environment') ?? record.environment;
  if (environment !== undefined && !environmentPattern.test(environment)) {
    throw new ConfigurationError(
      'environment',
      environment,
      'a GitHub environment name (1 to 255 characters, no commas, semicolons, quotes, < > or \\)',
    );
  }
  return {
    record,
    token: p.optional('github-token') ?? '',
    comment: p.boolean('comment', true),
    summary: p.boolean('summary', true),
    deployment: p.boolean('deployment', true),
    environment,
  };
}
