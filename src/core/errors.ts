import type { RecordCancellation } from './record';

/**
 * A mistake in what the user asked for (an input, a flag). Raised before any AWS call, so nothing is half-done.
 * The message always names the input, the value given and what is accepted.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(
    readonly input: string,
    readonly given: string | undefined,
    readonly accepted: string,
  ) {
    super(
      given === undefined || given === ''
        ? `Input '${input}' is required and was not supplied: expected ${accepted}.`
        : `Input '${input}' has an invalid value ${JSON.stringify(given)}: expected ${accepted}.`,
    );
  }
}

/** A failure with a message already written for the user (what was being done, what went wrong, what to do). */
export class DeployError extends Error {
  override readonly name: string = 'DeployError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The job was cancelled mid-deploy, and what the step had started is settled: `cancellation` says what each part of
 * the target runs now and the command that finishes the rollback (the record's outcome becomes `cancelled`).
 */
export class DeployCancelledError extends DeployError {
  override readonly name: string = 'DeployCancelledError';
  constructor(
    message: string,
    readonly cancellation: RecordCancellation,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const credentialErrors: Record<string, string> = {
  ExpiredTokenException: 'the AWS session token has expired',
  ExpiredToken: 'the AWS session token has expired',
  RequestExpired: 'the AWS request signature has expired (is the clock right?)',
  UnrecognizedClientException: 'the AWS access key is not recognised',
  InvalidClientTokenId: 'the AWS access key is not recognised',
  InvalidSignatureException: 'the AWS secret key does not match the access key',
  SignatureDoesNotMatch: 'the AWS secret key does not match the access key',
  CredentialsProviderError: 'no AWS credentials were found',
};

/** The AWS error code of an SDK error (`name`, falling back to the query protocol's `Code`). */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown };
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.Code === 'string') return e.Code;
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Wraps an AWS SDK error with what the toolkit was doing: "Could not start the instance refresh of web-asg: …".
 * Credential failures get one message that says which credential failed and how to renew it.
 */
export function wrapAwsError(doing: string, error: unknown): DeployError {
  if (error instanceof DeployError || error instanceof ConfigurationError) return error as DeployError;
  const name = awsErrorName(error);
  const credentialProblem = name ? credentialErrors[name] : undefined;
  if (credentialProblem) {
    return new DeployError(
      `Could not ${doing}: ${credentialProblem} (${name}). Renew the credentials: re-run ` +
        'aws-actions/configure-aws-credentials earlier in the job (raise role-duration-seconds for long deploys), ' +
        'or refresh AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.',
      { cause: error },
    );
  }
  const code = name && !messageOf(error).includes(name) ? ` (${name})` : '';
  return new DeployError(`Could not ${doing}: ${messageOf(error)}${code}`, { cause: error });
}

/** Runs an AWS call and wraps whatever it throws with what was being done. */
export async function withContext<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw wrapAwsError(doing, error);
  }
}
