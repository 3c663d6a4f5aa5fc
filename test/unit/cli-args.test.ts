import { inputReader, parseArgs } from '../../src/cli/args';
import { ConfigurationError } from '../../src/core/errors';

describe('CLI arguments', () => {
  it('maps --name value and --name=value to the action input of that name, repeated flags to multiline', () => {
    const args = parseArgs([
      'promote',
      '--repository',
      'web',
      '--source=sha-abc',
      '--tags',
      'staging',
      '--tags',
      'production',
      '--json',
    ]);
    expect(args).toEqual({
      command: 'promote',
      values: { repository: 'web', source: 'sha-abc', tags: 'staging\nproduction' },
      dryRun: false,
      json: true,
      help: false,
    });
  });

  it('passes --dry-run=false on: ecr-cleanup deletes only when told so', () => {
    expect(parseArgs(['ecr-cleanup', '--dry-run=false'])).toMatchObject({
      values: { 'dry-run': 'false' },
      dryRun: false,
    });
    expect(parseArgs(['ecr-cleanup', '--dry-run'])).toMatchObject({ values: {}, dryRun: true });
  });

  it('reads inputs from flags first, then ADK_* environment variables', () => {
    const read = inputReader({ repository: 'web' }, ['repository', 'service-arn', 'region'], {
      ADK_SERVICE_ARN: 'arn:x',
      ADK_REPOSITORY: 'ignored',
    });
    expect(read('repository')).toBe('web');
    expect(read('service-arn')).toBe('arn:x');
    expect(read('region')).toBe('');
  });

  it('refuses an unknown flag instead of ignoring a typo', () => {
    expect(() => inputReader({ tagz: 'x' }, ['tags'], {})).toThrow(ConfigurationError);
    expect(() => inputReader({ tagz: 'x' }, ['tags'], {})).toThrow(/--tagz.*--tags/);
  });

  it('says which flag lacks its value', () => {
    expect(() => parseArgs(['deploy', '--repository'])).toThrow(/--repository/);
  });
});
