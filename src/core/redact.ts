/**
 * A URL fit for a log line, an error message, the record or a summary: credentials in it
 * (https://user:password@host/health, a basic-auth staging site) are replaced by `mask` — `***` by default, so that a
 * reader sees there were some; `''` drops them, for a link. Anything that is not an absolute URL (a path such as
 * "/version") has nothing to hide and comes back as it is.
 */
export function redactUrl(url: string, mask = '***'): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = mask;
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}
