import { createServer, type Server, type Socket } from 'node:net';
import { AppRunnerClient } from '@aws-sdk/client-apprunner';
import { ECRClient } from '@aws-sdk/client-ecr';
import { systemClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import { createTarget } from '../../src/targets/apprunner/target';

// A cancelled job has about 10 s before the runner kills it: the App Runner target's look at what the service runs
// must not wait on an endpoint that never answers (the SDK's own request timeout is unlimited).

let server: Server;
const sockets: Socket[] = [];
let endpoint: string;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

it('says what it could not read, instead of hanging, when DescribeService never answers after a cancel', async () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
  const target = createTarget(
    { serviceArn: 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef' },
    {
      region: 'us-east-1',
      env: {},
      clock: systemClock,
      logger: captureLogger(),
      ecr: new ECRClient({ region: 'us-east-1', endpoint, credentials }),
      clients: { apprunner: new AppRunnerClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 }) },
    },
  );
  const settled = await target.settleCancelled(newRecord('a'.repeat(40)));
  expect(settled.runsNow).toEqual([expect.stringContaining('what it runs could not be read')]);
  expect(sockets.length).toBeGreaterThan(0);
}, 20_000);
