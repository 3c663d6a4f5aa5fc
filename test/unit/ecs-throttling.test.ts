import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { clientSettings } from '../../src/aws/clients';
import { updateServiceTaskDefinition } from '../../src/aws/ecs';

// The SDK's own retry (the toolkit's client settings) is what carries a deploy through a throttling storm between
// polls: a real ECSClient against a local endpoint that answers "Rate exceeded" twice, then the update.

let server: Server;
let endpoint: string;
const seen: string[] = [];
let throttles = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(String(request.headers['x-amz-target']));
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (throttles > 0) {
        throttles--;
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        return;
      }
      response.end(JSON.stringify({ service: { serviceName: 'web', taskDefinition: 'web:8' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  seen.length = 0;
});

function client(maxAttempts: string) {
  return new ECSClient({
    ...clientSettings('us-east-1', { AWS_MAX_ATTEMPTS: maxAttempts, AWS_RETRY_MODE: 'standard' }),
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
}

it('retries a throttled UpdateService and succeeds', async () => {
  throttles = 2;
  const service = await updateServiceTaskDefinition(client('3'), 'prod', 'web', 'web:8');
  expect(service.taskDefinition).toBe('web:8');
  expect(seen).toEqual(Array(3).fill('AmazonEC2ContainerServiceV20141113.UpdateService'));
});

it('says what it was doing when throttling outlasts the retries', async () => {
  throttles = 5;
  await expect(updateServiceTaskDefinition(client('2'), 'prod', 'web', 'web:8')).rejects.toThrow(
    /Could not update the ECS service web to web:8: Rate exceeded \(ThrottlingException\)/,
  );
  expect(seen).toHaveLength(2);
  throttles = 0;
});

it('keeps retrying throttled calls for ten attempts by default, so a fleet queued behind a rate limit gets through', async () => {
  // Nine "Rate exceeded" answers: more than the SDK's own default of three attempts (and our old six) survive.
  throttles = 9;
  // The SDK's backoff is random × 2^attempt × base: a random of 0 makes every wait 0 ms. What is tested is how many
  // attempts the default settings make, not how long they wait.
  const random = jest.spyOn(Math, 'random').mockReturnValue(0);
  const patient = new ECSClient({
    ...clientSettings('us-east-1', { AWS_RETRY_MODE: 'standard' }),
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  try {
    const service = await updateServiceTaskDefinition(patient, 'prod', 'web', 'web:8');
    expect(service.taskDefinition).toBe('web:8');
    expect(seen).toHaveLength(10);
  } finally {
    random.mockRestore();
    patient.destroy();
  }
});
