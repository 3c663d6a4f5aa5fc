/** Wire-protocol pieces of the AWS emulator: awsJson (ECR 1.1, App Runner 1.0) and awsQuery (Auto Scaling, ELBv2). */

/** An error answered the way AWS answers it. `code` is the wire error code (e.g. 'InstanceRefreshInProgress'). */
export class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

/** Epoch seconds, as the JSON protocols need timestamps (an ISO string makes the SDK throw). */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * Parses an awsQuery form body into a nested object: `A.B.member.1=x` becomes `{ A: { B: ['x'] } }`,
 * `Tags.member.1.Key=k` becomes `{ Tags: [{ Key: 'k' }] }`.
 */
export function parseQuery(body: string): { action: string; version: string; params: Record<string, unknown> } {
  const form = new URLSearchParams(body);
  const params: Record<string, unknown> = {};
  let action = '';
  let version = '';
  for (const [key, value] of form) {
    if (key === 'Action') action = value;
    else if (key === 'Version') version = value;
    else setPath(params, key.split('.'), value);
  }
  return { action, version, params: normaliseLists(params) as Record<string, unknown> };
}

function setPath(target: Record<string, unknown>, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Turns `{ member: { 1: a, 2: b } }` into `[a, b]`, recursively. */
function normaliseLists(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === 'member' && typeof record.member === 'object' && record.member !== null) {
    const members = record.member as Record<string, unknown>;
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => normaliseLists(members[k]));
  }
  for (const key of keys) record[key] = normaliseLists(record[key]);
  return record;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serialises a result object as awsQuery XML: arrays as <member>, dates as ISO-8601. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** What a query handler returns for an operation the model gives no output: AWS answers with no <OpResult> at all. */
export const NO_RESULT = Symbol('no result');

export function querySuccess(action: string, xmlns: string, result: unknown, requestId: string): string {
  const body = result === NO_RESULT ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return (
    `<${action}Response xmlns="${xmlns}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(fault: AwsFault, requestId: string): string {
  return (
    `<ErrorResponse><Error><Type>${fault.type}</Type><Code>${escapeXml(fault.code)}</Code>` +
    `<Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
