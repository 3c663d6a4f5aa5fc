/** Where progress goes. In an action it is @actions/core; in the CLI, the terminal; in tests, an array. */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export interface CapturedLogger extends Logger {
  readonly lines: string[];
}

/** A logger that keeps every line, prefixed with its level, for tests. */
export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
  };
}

export const silentLogger: Logger = { info() {}, warning() {}, error() {}, debug() {} };
