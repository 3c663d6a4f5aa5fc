import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector } from './faults';
import { AwsFault, parseQuery, queryError, querySuccess } from './protocol';

/** One recorded call, for tests to assert on. */
export interface RecordedCall {
  service: string;
  operation: string;
  params: Record<string, unknown>;
  at: number;
  /** The wire protocol the call came in on (CloudWatch serves both). */
  protocol?: 'json' | 'query';
  /** The raw answer as sent (set once it is), for test/sandbox/model-conformance.test.ts to hold against AWS's model. */
  response?: { status: number; headers: Record<string, string>; body: string };
}

export type OperationHandler = (params: Record<string, unknown>) => unknown | Promise<unknown>;

/** An emulated AWS service: its protocol and its operations. Each service lives in its own module. */
export type ServiceDefinition =
  | {
      name: string;
      protocol: 'json';
      /** The X-Amz-Target prefix: 'AmazonEC2ContainerRegistry_V20150921' or 'AppRunner'. */
      targetPrefix: string;
      /** 'application/x-amz-json-1.1' (ECR) or 'application/x-amz-json-1.0' (App Runner). */
      contentType: string;
      /**
       * awsQueryCompatible (CloudWatch): errors carry their awsQuery code, also in the x-amzn-query-error header
       * ("Code;Sender"), and throttling is `Throttling`, as the service answered over awsQuery.
       */
      queryCompatible?: boolean;
      operations: Record<string, OperationHandler>;
    }
  | {
      name: string;
      protocol: 'query';
      /** The Version form field that names this service: '2011-01-01' (Auto Scaling), '2015-12-01' (ELBv2). */
      version: string;
      xmlns: string;
      operations: Record<string, OperationHandler>;
    };

/**
 * One HTTP server on loopback that speaks the AWS wire protocols of every registered service. The SDK clients reach
 * it through AWS_ENDPOINT_URL_<SERVICE> alone. It records every call and injects the faults tests ask for.
 */
export class AwsEmulator {
  readonly faults = new FaultInjector();
  readonly calls: RecordedCall[] = [];
  private readonly services: ServiceDefinition[] = [];
  private server: Server | undefined;
  private port = 0;

  register(service: ServiceDefinition): void {
    this.services.push(service);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The calls of one operation (optionally of one service), in order. */
  callsOf(operation: string, service?: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation && (!service || c.service === service));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** The environment that points the SDK clients (and so the shipped bundles) at this emulator. */
  clientEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ECR: this.endpoint,
      AWS_ENDPOINT_URL_APPRUNNER: this.endpoint,
      AWS_ENDPOINT_URL_AUTO_SCALING: this.endpoint,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: this.endpoint,
      AWS_ENDPOINT_URL_ECS: this.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: this.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIASANDBOXEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'sandbox-secret-access-key-do-not-log',
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const requestId = randomUUID();
    const target = req.headers['x-amz-target'];

    if (typeof target === 'string') {
      const [prefix, operation = ''] = target.split('.');
      const service = this.services.find((s) => s.protocol === 'json' && s.targetPrefix === prefix);
      if (service?.protocol !== 'json')
        return this.jsonError(
          res,
          'application/json',
          new AwsFault('UnknownOperationException', `Unknown target ${target}`),
          requestId,
        );
      let params: Record<string, unknown>;
      try {
        params = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      } catch {
        return this.jsonError(
          res,
          service.contentType,
          new AwsFault('SerializationException', 'Request body is not JSON'),
          requestId,
        );
      }
      const handler = service.operations[operation];
      if (!handler)
        return this.jsonError(
          res,
          service.contentType,
          new AwsFault('UnknownOperationException', `Unknown operation ${operation}`),
          requestId,
        );
      this.record(res, { service: service.name, operation, params, at: Date.now(), protocol: 'json' });
      const wire = service.queryCompatible ? 'query' : 'json';
      if (
        await this.injectFault(res, service.name, operation, wire, (fault) =>
          this.jsonError(res, service.contentType, fault, requestId, service.queryCompatible),
        )
      )
        return;
      try {
        const result = await handler(params);
        res.writeHead(200, { 'content-type': service.contentType, 'x-amzn-requestid': requestId });
        res.end(JSON.stringify(result ?? {}));
      } catch (error) {
        this.jsonError(res, service.contentType, asFault(error), requestId, service.queryCompatible);
      }
      return;
    }

    const { action, version, params } = parseQuery(body);
    const service = this.services.find((s) => s.protocol === 'query' && s.version === version);
    if (service?.protocol !== 'query')
      return this.xmlError(res, new AwsFault('InvalidAction', `Unknown Version ${version}`), requestId);
    const handler = service.operations[action];
    if (!handler)
      return this.xmlError(res, new AwsFault('InvalidAction', `Could not find operation ${action}`), requestId);
    this.record(res, { service: service.name, operation: action, params, at: Date.now(), protocol: 'query' });
    if (await this.injectFault(res, service.name, action, 'query', (fault) => this.xmlError(res, fault, requestId)))
      return;
    try {
      const result = await handler(params);
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(querySuccess(action, service.xmlns, result ?? {}, requestId));
    } catch (error) {
      this.xmlError(res, asFault(error), requestId);
    }
  }

  /** Records the call, and its answer when it is sent. */
  private record(res: ServerResponse, call: RecordedCall): void {
    this.calls.push(call);
    let headers: Record<string, string> = {};
    const writeHead = res.writeHead.bind(res) as (status: number, h?: Record<string, string>) => ServerResponse;
    res.writeHead = ((status: number, h: Record<string, string> = {}) => {
      headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return writeHead(status, h);
    }) as ServerResponse['writeHead'];
    const end = res.end.bind(res) as (body?: string) => ServerResponse;
    res.end = ((body?: string) => {
      call.response = { status: res.statusCode, headers, body: body ?? '' };
      return end(body);
    }) as ServerResponse['end'];
  }

  /** Applies an injected fault; true when the call was answered (or dropped) by it. */
  private async injectFault(
    res: ServerResponse,
    service: string,
    operation: string,
    protocol: ServiceDefinition['protocol'],
    answer: (fault: AwsFault) => void,
  ): Promise<boolean> {
    const { latencyMs, fault } = this.faults.take(service, operation);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (!fault) return false;
    switch (fault.kind) {
      case 'reset':
        res.socket?.destroy();
        return true;
      case 'throttle':
        answer(throttlingFault(protocol, fault.status));
        return true;
      case 'server-error':
        answer(
          new AwsFault(
            fault.status === 503 ? 'ServiceUnavailable' : 'InternalFailure',
            'We encountered an internal error. Please try again.',
            fault.status ?? 500,
          ),
        );
        return true;
      case 'expired-token':
        answer(new AwsFault('ExpiredTokenException', 'The security token included in the request is expired', 400));
        return true;
      default:
        return false;
    }
  }

  private jsonError(
    res: ServerResponse,
    contentType: string,
    fault: AwsFault,
    requestId: string,
    queryCompatible = false,
  ): void {
    res.writeHead(fault.status, {
      'content-type': contentType,
      'x-amzn-errortype': fault.code,
      'x-amzn-requestid': requestId,
      ...(queryCompatible ? { 'x-amzn-query-error': `${fault.code};${fault.type}` } : {}),
    });
    // ECR reads `message`, App Runner `Message`: send both.
    res.end(JSON.stringify({ __type: fault.code, message: fault.message, Message: fault.message }));
  }

  private xmlError(res: ServerResponse, fault: AwsFault, requestId: string): void {
    res.writeHead(fault.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(queryError(fault, requestId));
  }
}

/**
 * Throttling as each protocol's services really answer it: the query services (Auto Scaling, ELBv2, CloudWatch)
 * send the code `Throttling` ("Rate exceeded") with HTTP 400 in the XML error body; the JSON services (ECR,
 * App Runner) send `ThrottlingException` with HTTP 400. Neither answers 429, so a client that keyed on the status
 * alone would miss both; the SDK classifies them by code.
 */
export function throttlingFault(protocol: ServiceDefinition['protocol'], status = 400): AwsFault {
  return new AwsFault(protocol === 'query' ? 'Throttling' : 'ThrottlingException', 'Rate exceeded', status);
}

function asFault(error: unknown): AwsFault {
  if (error instanceof AwsFault) return error;
  return new AwsFault('InternalFailure', error instanceof Error ? error.message : String(error), 500);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
