import { ConfigurationError } from '../../src/core/errors';
import { validateRepositoryName } from '../../src/core/validate';
import { parseImageReference } from '../../src/targets/apprunner/image-reference';

// ECR's RepositoryName pattern (botocore ecr model): components separated by `.`, `_`, `__` or any run of `-`.
describe('validateRepositoryName', () => {
  it.each(['web', 'team/web', 'my__app', 'my--app', 'my---app', 'a.b_c-d', 'team__a/web--b'])('accepts %s', (name) => {
    expect(validateRepositoryName('repository', name)).toBe(name);
  });

  it.each(['Web', 'my___app', '-web', 'web-', 'a..b', 'a_.b', 'team//web', 'w'])('refuses %s', (name) => {
    expect(() => validateRepositoryName('repository', name)).toThrow(ConfigurationError);
    expect(() => validateRepositoryName('repository', name)).toThrow(/__ or - \(one or more\)/);
  });

  it('an image URI with such a repository parses too', () => {
    const uri = `123456789012.dkr.ecr.us-east-1.amazonaws.com/team__a/my--app@sha256:${'c'.repeat(64)}`;
    expect(parseImageReference('image', uri)).toMatchObject({ repository: 'team__a/my--app' });
  });
});
