import { ConfigurationError } from '../../src/core/errors';
import { newRecord, parseRecord, recordCancelled, serializeRecord } from '../../src/core/record';

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

describe('the cancelled outcome', () => {
  it('is written by recordCancelled and read back by parseRecord', () => {
    const record = newRecord(sha);
    recordCancelled(
      record,
      {
        runsNow: ['instance refresh r-1: Cancelled, 50% complete'],
        finish: 'aws autoscaling start-instance-refresh …',
      },
      'The job was cancelled: …',
    );
    expect(parseRecord('record', serializeRecord(record))).toMatchObject({
      outcome: 'cancelled',
      error: 'The job was cancelled: …',
      cancellation: {
        runsNow: ['instance refresh r-1: Cancelled, 50% complete'],
        finish: 'aws autoscaling start-instance-refresh …',
      },
    });
  });

  it('refuses a malformed cancellation, naming the input', () => {
    const text = JSON.stringify({
      ...newRecord(sha, { outcome: 'cancelled' }),
      cancellation: { runsNow: 'all of it' },
    });
    expect(() => parseRecord('record', text)).toThrow(ConfigurationError);
    expect(() => parseRecord('record', text)).toThrow(/"cancellation" needs runsNow/);
  });
});
