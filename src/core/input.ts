import { ConfigurationError } from './errors';

/** Reads one raw input by its action.yml name; '' when not given (as @actions/core does). */
export type InputReader = (name: string) => string;

/** Typed readers over one InputReader, so every action parses its inputs the same way. */
export function inputParser(read: InputReader) {
  const raw = (name: string) => read(name).trim();
  return {
    optional(name: string): string | undefined {
      const value = raw(name);
      return value === '' ? undefined : value;
    },
    required(name: string, accepted: string): string {
      const value = raw(name);
      if (value === '') throw new ConfigurationError(name, value, accepted);
      return value;
    },
    boolean(name: string, fallback: boolean): boolean {
      const value = raw(name).toLowerCase();
      if (value === '') return fallback;
      if (['true', 'yes', '1', 'on'].includes(value)) return true;
      if (['false', 'no', '0', 'off'].includes(value)) return false;
      throw new ConfigurationError(name, read(name), '"true" or "false"');
    },
    integer(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
      const value = raw(name);
      if (value === '') return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        throw new ConfigurationError(name, value, `a whole number from ${min} to ${max}`);
      }
      return n;
    },
    number(name: string, fallback: number, min: number, max: number): number {
      const value = raw(name);
      if (value === '') return fallback;
      const n = Number(value);
      if (!Number.isFinite(n) || n < min || n > max) {
        throw new ConfigurationError(name, value, `a number from ${min} to ${max}`);
      }
      return n;
    },
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
      const value = raw(name);
      if (value === '') return fallback;
      if (!(choices as readonly string[]).includes(value)) {
        throw new ConfigurationError(name, value, `one of ${choices.map((c) => `"${c}"`).join(', ')}`);
      }
      return value as T;
    },
    /** Newline- (or comma-) separated list, blanks and # comments dropped. */
    list(name: string): string[] {
      return read(name)
        .split(/[\n,]/)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
    },
    /** Multiline KEY=VALUE pairs. */
    keyValues(name: string): Record<string, string> {
      const pairs: Record<string, string> = {};
      for (const line of read(name).split('\n')) {
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) continue;
        const eq = trimmed.indexOf('=');
        if (eq <= 0) throw new ConfigurationError(name, trimmed, 'one KEY=VALUE pair per line');
        pairs[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1);
      }
      return pairs;
    },
  };
}

export type InputParser = ReturnType<typeof inputParser>;
