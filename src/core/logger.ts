/** Where progress goes. In an action it is @actions/core; in the CLI, the terminal; in tests, an array. */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /**
   * Runs `fn` inside a group of the log titled `title` (a collapsible `::group::` in the runner's log, a heading line
   * in a terminal) and returns what it returns; the group ends when fn settles, resolved or thrown. The runner does
   * not nest groups, so no Logger does: a group inside a group just runs fn, its lines staying in the outer group.
   */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** How one log shows a group (open it, run fn, close it), without the nesting rule. */
export type GroupWriter = <T>(title: string, fn: () => Promise<T>) => Promise<T>;

/**
 * A Logger's `group` from how the log shows one, with the nesting rule of `Logger.group`: while a group is open,
 * another group just runs its fn. One per Logger, since it keeps whether a group is open.
 */
export function flatGroups(write: GroupWriter): GroupWriter {
  let open = false;
  return async (title, fn) => {
    if (open) return fn();
    open = true;
    try {
      return await write(title, fn);
    } finally {
      open = false;
    }
  };
}

export interface CapturedLogger extends Logger {
  readonly lines: string[];
}

/** A logger that keeps every line, prefixed with its level, for tests; a group is a `group: ` and an `end group: ` line. */
export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
    group: flatGroups(async (title, fn) => {
      lines.push(`group: ${title}`);
      try {
        return await fn();
      } finally {
        lines.push(`end group: ${title}`);
      }
    }),
  };
}

export const silentLogger: Logger = { info() {}, warning() {}, error() {}, debug() {}, group: (_title, fn) => fn() };
