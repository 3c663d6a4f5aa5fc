import { ConfigurationError } from '../../src/core/errors';
import { newRecord } from '../../src/core/record';
import {
  defaultServiceName,
  recordBelongsTo,
  resolveService,
  stampService,
  validateServiceName,
} from '../../src/core/service';

const env = { GITHUB_REPOSITORY: 'octo-org/shop' };
const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

it("defaults to the repository's name, which keeps the names used before services existed", () => {
  expect(resolveService('service', undefined, env)).toEqual({ name: 'shop', isDefault: true });
  // Naming the repository explicitly is the same service.
  expect(resolveService('service', 'shop', env)).toEqual({ name: 'shop', isDefault: true });
  expect(resolveService('service', 'backend', env)).toEqual({ name: 'backend', isDefault: false });
  // Outside GitHub Actions (the CLI without GITHUB_REPOSITORY) the unnamed service is the default one.
  expect(resolveService('service', undefined, {})).toEqual({ name: 'default', isDefault: true });
});

it('makes a repository name that is not a valid service name into one', () => {
  expect(defaultServiceName({ GITHUB_REPOSITORY: 'o/.github pages' })).toBe('github-pages');
  expect(defaultServiceName({})).toBeUndefined();
});

it.each(['', '-backend', 'back end', 'a'.repeat(65), 'api/v2'])('refuses %j, naming the input', (value) => {
  expect(() => validateServiceName('service', value)).toThrow(ConfigurationError);
  expect(() => validateServiceName('service', value)).toThrow(/service.*1-64 characters/);
});

it("takes a later step's service from the record, and refuses one that contradicts it", () => {
  const record = newRecord(sha, { service: 'backend' });
  expect(resolveService('service', undefined, env, record)).toEqual({ name: 'backend', isDefault: false });
  expect(resolveService('service', 'backend', env, record)).toEqual({ name: 'backend', isDefault: false });
  expect(() => resolveService('service', 'frontend', env, record)).toThrow(
    /service.*"frontend".*the service of the record it continues \("backend"\)/,
  );
});

it('writes the service into a record that had none', () => {
  const record = newRecord(sha);
  expect(stampService('frontend', env, record)).toEqual({ name: 'frontend', isDefault: false });
  expect(record.service).toBe('frontend');
});

it('counts a record without a service as the default service’s', () => {
  const legacy = newRecord(sha);
  expect(recordBelongsTo(legacy, { name: 'shop', isDefault: true })).toBe(true);
  expect(recordBelongsTo(legacy, { name: 'backend', isDefault: false })).toBe(false);
  expect(recordBelongsTo({ service: 'backend' }, { name: 'backend', isDefault: false })).toBe(true);
  expect(recordBelongsTo({ service: 'backend' }, { name: 'shop', isDefault: true })).toBe(false);
});
