import { redactUrl } from '../../src/core/redact';
import { safeUrl } from '../../src/github/render';

describe('redactUrl', () => {
  it('masks credentials, or drops them for a link', () => {
    expect(redactUrl('https://user:secret@example.com/health')).toBe('https://***@example.com/health');
    expect(redactUrl('https://user@example.com/health')).toBe('https://***@example.com/health');
    expect(redactUrl('https://:secret@example.com/')).toBe('https://***@example.com/');
    expect(redactUrl('https://user:secret@example.com/x', '')).toBe('https://example.com/x');
  });

  it('returns anything without credentials as it is, byte for byte', () => {
    expect(redactUrl('https://example.com')).toBe('https://example.com');
    expect(redactUrl('/version')).toBe('/version');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('is what the rendered links use: no credentials, and http(s) only', () => {
    expect(safeUrl('http://admin:hunter2@web.example.com/')).toBe('http://web.example.com/');
    expect(safeUrl('https://web.example.com')).toBe('https://web.example.com');
    expect(safeUrl('ftp://web.example.com')).toBeUndefined();
    expect(safeUrl('/relative')).toBeUndefined();
    expect(safeUrl(undefined)).toBeUndefined();
  });
});
