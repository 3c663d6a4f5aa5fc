import { actionDeps } from '../../src/actions/runtime';
import { captureLogger, flatGroups, type GroupWriter, silentLogger } from '../../src/core/logger';

describe('log groups', () => {
  it('puts the lines of fn between a group line and an end line, and returns what fn returns', async () => {
    const logger = captureLogger();
    logger.info('before');
    const value = await logger.group('deploy', async () => {
      logger.info('deploying');
      return 42;
    });
    logger.info('after');
    expect(value).toBe(42);
    expect(logger.lines).toEqual(['before', 'group: deploy', 'deploying', 'end group: deploy', 'after']);
  });

  it('ends the group when fn throws, and throws what fn threw', async () => {
    const logger = captureLogger();
    await expect(
      logger.group('verify', async () => {
        logger.error('unhealthy');
        throw new Error('health check failed');
      }),
    ).rejects.toThrow('health check failed');
    expect(logger.lines).toEqual(['group: verify', 'error: unhealthy', 'end group: verify']);
    // The group is closed: the next one opens as usual.
    await logger.group('report', async () => {});
    expect(logger.lines.slice(3)).toEqual(['group: report', 'end group: report']);
  });

  it('does not nest: a group inside a group just runs fn, in the outer group', async () => {
    const logger = captureLogger();
    const value = await logger.group('rollback', async () => {
      logger.info('moving the boot tag back');
      return logger.group('verify', async () => {
        logger.info('probing');
        return 'healthy';
      });
    });
    expect(value).toBe('healthy');
    expect(logger.lines).toEqual(['group: rollback', 'moving the boot tag back', 'probing', 'end group: rollback']);
  });

  it('calls the writer once for an outer group, whatever runs inside it', async () => {
    const opened: string[] = [];
    const write: GroupWriter = async (title, fn) => {
      opened.push(title);
      return fn();
    };
    const group = flatGroups(write);
    await group('a', () => group('b', () => group('c', async () => undefined)));
    await group('d', async () => undefined);
    expect(opened).toEqual(['a', 'd']);
  });

  it('the silent logger runs fn and returns its value', async () => {
    await expect(silentLogger.group('x', async () => 'y')).resolves.toBe('y');
  });
});

describe("the action's logger", () => {
  it("maps a group to the runner's ::group:: and ::endgroup:: commands, once for nested groups", async () => {
    const listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const { logger } = actionDeps();
    // actionDeps listens for the runner's cancellation signals: not in a test worker.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) {
        if (!listeners[signal].includes(listener)) process.removeListener(signal, listener);
      }
    }
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const value = await logger.group('deploy to web', async () => {
        logger.info('deploying');
        return logger.group('verify', async () => 7);
      });
      expect(value).toBe(7);
    } finally {
      write.mockRestore();
    }
    expect(written.join('').split(/\r?\n/)).toEqual(['::group::deploy to web', 'deploying', '::endgroup::', '']);
  });
});
