import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { RecordedCall } from './emulator/server';
import { repoRoot } from './paths';

// Holds the emulators' raw answers to AWS's own API models (botocore's service-2.json, read through python3), so a
// member AWS does not have, a wrong type, a missing required field, an enum value AWS never sends, a timestamp in the
// wrong encoding or an error code the operation cannot return is caught on the wire, not by a user.

interface MemberRef {
  shape: string;
  locationName?: string;
}

export interface Shape {
  type: string;
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  timestampFormat?: string;
  flattened?: boolean;
  exception?: boolean;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
}

export interface Operation {
  name: string;
  output?: { shape: string; resultWrapper?: string };
  errors?: { shape: string }[];
}

export interface ServiceModel {
  metadata: { protocol: string; apiVersion: string; xmlNamespace?: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

export const INSTALL_HINT =
  'The model-conformance test reads AWS API models from botocore through python3: install them with ' +
  '`pip install botocore` (or `apt-get install python3 python3-botocore`).';

/** botocore's models of the named services (botocore names: ecr, apprunner, autoscaling, elbv2). Throws with how to install. */
export function loadModels(services: string[]): { botocore: string; models: Record<string, ServiceModel> } {
  try {
    const out = execFileSync('python3', [join(repoRoot(), 'sandbox/botocore-models.py'), ...services], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out) as { botocore: string; models: Record<string, ServiceModel> };
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(`${INSTALL_HINT}\n${detail}`);
  }
}

/**
 * Errors any operation may return though no operation lists them (AWS's "Common errors" pages), plus the
 * protocol-level ones an SDK can receive before any operation runs.
 */
export const COMMON_ERRORS = new Set([
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InternalFailure',
  'InvalidAction',
  'InvalidClientTokenId',
  'InvalidParameterCombination',
  'InvalidParameterValue',
  'InvalidQueryParameter',
  'MalformedQueryString',
  'MissingAction',
  'MissingAuthenticationToken',
  'MissingParameter',
  'NotAuthorized',
  'OptInRequired',
  'RequestExpired',
  'SerializationException',
  'ServiceUnavailable',
  'ThrottlingException',
  'UnknownOperationException',
  'UnrecognizedClientException',
  'ValidationError',
]);

type Problems = string[];

function checkScalarRange(shape: Shape, n: number, path: string, problems: Problems): void {
  if (shape.min !== undefined && n < shape.min) problems.push(`${path}: ${n} is below the model's min ${shape.min}`);
  if (shape.max !== undefined && n > shape.max) problems.push(`${path}: ${n} is above the model's max ${shape.max}`);
}

function checkString(shape: Shape, text: string, path: string, problems: Problems): void {
  if (shape.enum && !shape.enum.includes(text)) {
    problems.push(`${path}: ${JSON.stringify(text)} is not one of the model's values ${shape.enum.join('|')}`);
  }
  if (shape.min !== undefined && text.length < shape.min)
    problems.push(`${path}: length ${text.length} is below the model's min ${shape.min}`);
  if (shape.max !== undefined && text.length > shape.max)
    problems.push(`${path}: length ${text.length} is above the model's max ${shape.max}`);
  if (shape.pattern) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(shape.pattern, 'u');
    } catch {
      // A Java-only construct: botocore itself does not check patterns either.
    }
    // Smithy patterns are not implicitly anchored: a match anywhere counts, as in the model's own semantics.
    if (re && !re.test(text)) problems.push(`${path}: ${JSON.stringify(text)} does not match /${shape.pattern}/`);
  }
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Checks a value parsed from an awsJson body against `shapeName`. */
export function checkJson(model: ServiceModel, shapeName: string, value: unknown, path: string, problems: Problems) {
  const shape = model.shapes[shapeName];
  if (!shape) {
    problems.push(`${path}: the model has no shape ${shapeName}`);
    return;
  }
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const expect = (wanted: string) => {
    if (kind !== wanted) problems.push(`${path}: a ${kind} where the model has a ${shape.type} (${shapeName})`);
    return kind === wanted;
  };
  switch (shape.type) {
    case 'structure': {
      if (!expect('object')) return;
      const record = value as Record<string, unknown>;
      for (const [key, v] of Object.entries(record)) {
        const member = shape.members?.[key];
        if (!member) problems.push(`${path}.${key}: not a member of ${shapeName}`);
        else if (v !== null) checkJson(model, member.shape, v, `${path}.${key}`, problems);
      }
      for (const key of shape.required ?? []) {
        if (record[key] === undefined || record[key] === null)
          problems.push(`${path}.${key}: required by ${shapeName}`);
      }
      return;
    }
    case 'list':
      if (!expect('array')) return;
      for (const [i, item] of (value as unknown[]).entries())
        checkJson(model, shape.member!.shape, item, `${path}[${i}]`, problems);
      return;
    case 'map':
      if (!expect('object')) return;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        checkJson(model, shape.key!.shape, k, `${path}{key}`, problems);
        checkJson(model, shape.value!.shape, v, `${path}.${k}`, problems);
      }
      return;
    case 'string':
      if (expect('string')) checkString(shape, value as string, path, problems);
      return;
    case 'integer':
    case 'long':
      if (!expect('number')) return;
      if (!Number.isInteger(value)) problems.push(`${path}: ${value} is not an integer (${shapeName})`);
      checkScalarRange(shape, value as number, path, problems);
      return;
    case 'float':
    case 'double':
      if (expect('number')) checkScalarRange(shape, value as number, path, problems);
      return;
    case 'boolean':
      expect('boolean');
      return;
    case 'timestamp':
      // awsJson timestamps are epoch seconds as numbers unless the model says otherwise; an ISO string breaks the SDK.
      if ((shape.timestampFormat ?? 'unixTimestamp') === 'unixTimestamp') expect('number');
      else if (expect('string') && !ISO_8601.test(value as string))
        problems.push(`${path}: ${JSON.stringify(value)} is not ISO-8601`);
      return;
    case 'blob':
      if (expect('string') && !/^[A-Za-z0-9+/]*={0,2}$/.test(value as string))
        problems.push(`${path}: not base64 (${shapeName})`);
      return;
    default:
      problems.push(`${path}: the check does not know the model type ${shape.type}`);
  }
}

// ---- awsQuery: a small XML reader (the emulator's XML has no attributes but xmlns, no CDATA, no comments) --------

export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#document', children: [], text: '' };
  const stack = [root];
  const tokens = /<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|([^<]+)/g;
  for (const m of xml.replace(/^<\?xml[^>]*\?>/, '').matchAll(tokens)) {
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      top.text += unescapeXml(m[5]);
    } else if (m[1] === '/') {
      if (top.name !== m[2]) throw new Error(`XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const node: XmlNode = { name: m[2]!, children: [], text: '' };
      top.children.push(node);
      if (m[4] !== '/') stack.push(node);
    }
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is never closed`);
  return root;
}

/** Checks an awsQuery XML element against `shapeName`. */
export function checkXml(model: ServiceModel, shapeName: string, node: XmlNode, path: string, problems: Problems) {
  const shape = model.shapes[shapeName];
  if (!shape) {
    problems.push(`${path}: the model has no shape ${shapeName}`);
    return;
  }
  const leaf = () => {
    if (node.children.length > 0) problems.push(`${path}: elements where the model has a ${shape.type}`);
    return node.text;
  };
  switch (shape.type) {
    case 'structure': {
      const byWire = new Map(
        Object.entries(shape.members ?? {}).map(([name, m]) => [m.locationName ?? name, { name, ...m }]),
      );
      const seen = new Set<string>();
      for (const child of node.children) {
        const member = byWire.get(child.name);
        if (!member) {
          problems.push(`${path}.${child.name}: not a member of ${shapeName}`);
          continue;
        }
        if (seen.has(child.name)) problems.push(`${path}.${child.name}: appears twice`);
        seen.add(child.name);
        checkXml(model, member.shape, child, `${path}.${child.name}`, problems);
      }
      for (const key of shape.required ?? []) {
        const wire = shape.members?.[key]?.locationName ?? key;
        if (!seen.has(wire)) problems.push(`${path}.${wire}: required by ${shapeName}`);
      }
      return;
    }
    case 'list': {
      const itemName = shape.member!.locationName ?? 'member';
      node.children.forEach((child, i) => {
        if (child.name !== itemName) problems.push(`${path}[${i}]: <${child.name}> where the model has <${itemName}>`);
        else checkXml(model, shape.member!.shape, child, `${path}[${i}]`, problems);
      });
      return;
    }
    case 'map':
      for (const entry of node.children) {
        const key = entry.children.find((c) => c.name === (shape.key!.locationName ?? 'key'));
        const value = entry.children.find((c) => c.name === (shape.value!.locationName ?? 'value'));
        if (entry.name !== 'entry' || !key || !value) problems.push(`${path}: a map entry is not <entry><key><value>`);
        else checkXml(model, shape.value!.shape, value, `${path}.${key.text}`, problems);
      }
      return;
    case 'string':
      checkString(shape, leaf(), path, problems);
      return;
    case 'integer':
    case 'long': {
      const text = leaf();
      if (!/^-?\d+$/.test(text)) problems.push(`${path}: ${JSON.stringify(text)} is not an integer (${shapeName})`);
      else checkScalarRange(shape, Number(text), path, problems);
      return;
    }
    case 'float':
    case 'double': {
      const text = leaf();
      if (text.trim() === '' || Number.isNaN(Number(text)))
        problems.push(`${path}: ${JSON.stringify(text)} is not a number`);
      else checkScalarRange(shape, Number(text), path, problems);
      return;
    }
    case 'boolean': {
      const text = leaf();
      if (text !== 'true' && text !== 'false') problems.push(`${path}: ${JSON.stringify(text)} is not true|false`);
      return;
    }
    case 'timestamp': {
      // awsQuery timestamps are ISO-8601 text (epoch numbers are what the JSON protocols use).
      const text = leaf();
      if (!ISO_8601.test(text)) problems.push(`${path}: ${JSON.stringify(text)} is not ISO-8601`);
      return;
    }
    default:
      problems.push(`${path}: the check does not know the model type ${shape.type}`);
  }
}

// ---- one recorded answer --------------------------------------------------------------------------------------

/** The wire error code an error shape is sent as: awsQuery shapes may rename it (InstanceRefreshInProgressFault). */
function wireCode(model: ServiceModel, shapeName: string): string {
  return model.shapes[shapeName]?.error?.code ?? shapeName;
}

/** The problems of one recorded answer against the operation's model; [] when it conforms. */
export function checkCall(model: ServiceModel, call: RecordedCall): Problems {
  const problems: Problems = [];
  const where = `${call.service}.${call.operation}`;
  const op = model.operations[call.operation];
  if (!op) return [`${where}: AWS's model has no such operation`];
  const response = call.response;
  if (!response) return [`${where}: no answer was recorded`];
  // A service serving two protocols (CloudWatch: JSON and awsQuery) records which one each call used.
  const json = call.protocol ? call.protocol === 'json' : model.metadata.protocol === 'json';

  if (response.status < 300) {
    if (json) {
      const body = JSON.parse(response.body || '{}') as unknown;
      if (op.output) checkJson(model, op.output.shape, body, where, problems);
      else if (Object.keys(body as object).length > 0) problems.push(`${where}: output where the model has none`);
      return problems;
    }
    const doc = parseXml(response.body);
    const envelope = doc.children[0];
    if (envelope?.name !== `${call.operation}Response`) return [`${where}: no <${call.operation}Response> envelope`];
    const names = envelope.children.map((c) => c.name);
    const wrapper = op.output?.resultWrapper;
    const metadata = envelope.children.find((c) => c.name === 'ResponseMetadata');
    if (!metadata?.children.some((c) => c.name === 'RequestId' && c.text !== ''))
      problems.push(`${where}: no ResponseMetadata/RequestId`);
    const result = envelope.children.find((c) => c.name === wrapper);
    if (op.output && wrapper && !result) problems.push(`${where}: no <${wrapper}> (the SDK would read nothing)`);
    for (const name of names) {
      if (name !== 'ResponseMetadata' && name !== wrapper) problems.push(`${where}: unexpected <${name}>`);
    }
    if (op.output && result) checkXml(model, op.output.shape, result, where, problems);
    return problems;
  }

  let code: string;
  let type: string | undefined;
  if (json) {
    const header = response.headers['x-amzn-errortype'] ?? '';
    const body = JSON.parse(response.body || '{}') as Record<string, unknown>;
    code = (header || String(body.__type ?? body.code ?? '')).split(':')[0]!.replace(/^.*#/, '');
    const shape = model.shapes[code];
    const messageKey = shape?.members && Object.keys(shape.members).find((k) => k.toLowerCase() === 'message');
    if (messageKey && typeof body[messageKey] !== 'string')
      problems.push(`${where}: error ${code} has no "${messageKey}" (the model's member)`);
  } else {
    const error = parseXml(response.body)
      .children.find((c) => c.name === 'ErrorResponse')
      ?.children.find((c) => c.name === 'Error');
    if (!error) return [`${where}: an error answer without <ErrorResponse><Error>`];
    code = error.children.find((c) => c.name === 'Code')?.text ?? '';
    type = error.children.find((c) => c.name === 'Type')?.text;
  }
  const modelled = (op.errors ?? []).find((e) => wireCode(model, e.shape) === code);
  if (!modelled) {
    if (!COMMON_ERRORS.has(code)) {
      const allowed = (op.errors ?? []).map((e) => wireCode(model, e.shape));
      problems.push(`${where}: error ${code} is not one the model lets it return (${allowed.join(', ') || 'none'})`);
    }
    return problems;
  }
  const error = model.shapes[modelled.shape]!.error;
  if (error?.httpStatusCode && error.httpStatusCode !== response.status)
    problems.push(`${where}: error ${code} sent with HTTP ${response.status}, the model says ${error.httpStatusCode}`);
  if (type !== undefined && error?.senderFault !== undefined && (type === 'Sender') !== error.senderFault)
    problems.push(`${where}: error ${code} typed ${type}, the model says senderFault=${error.senderFault}`);
  return problems;
}
