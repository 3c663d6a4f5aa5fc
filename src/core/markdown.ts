// The one place that knows what breaks GitHub-flavoured markdown: every job summary and comment is built from these.
// Plain text (an error message, an image URI, a note) goes through `cell`, `inline` or `quote`; `code` makes a code
// span; `table` lays out cells that are already markdown.

const lineBreak = /\r\n|\r|\n/g;

/** &, < and > as entities: text shown in a summary never opens an HTML tag (GitHub renders some, e.g. <details>). */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Plain text for a table cell: no HTML, a pipe escaped (`\|`) so that it does not end the cell, a backslash before a
 * pipe doubled (or it would escape the escape), and line breaks as `<br>` (a line break ends the table row).
 */
export function cell(text: string): string {
  return escapeHtml(text)
    .replace(/\\+(?=\|)/g, (run) => run + run)
    .replace(/\|/g, '\\|')
    .replace(lineBreak, '<br>');
}

/** Plain text for a heading, a list item or a line of prose: no HTML, and on one line. */
export function inline(text: string): string {
  return escapeHtml(text).replace(lineBreak, ' ');
}

/**
 * A code span, fit for a table cell too: a backtick inside would end the span (shown as '), a pipe would end the cell
 * (escaped: GitHub unescapes `\|` even inside code in a table), and a line break would end the row (a space).
 */
export function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(lineBreak, ' ')}\``;
}

/** Plain text as a block quote, one `> ` line per line of the text. */
export function quote(text: string): string {
  return text
    .split(lineBreak)
    .map((line) => `> ${escapeHtml(line)}`)
    .join('\n');
}

/** A bullet list of plain-text items. */
export function bullets(items: readonly string[]): string {
  return items.map((item) => `- ${inline(item)}`).join('\n');
}

/**
 * A table of cells that are already markdown (plain text goes through `cell` or `code` first). Without a header the
 * header row is empty (`| | |`): the two-column "facts" table of every summary. Rows shorter than the widest are
 * padded with empty cells, so that no row loses its last column.
 */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const columns = Math.max(header?.length ?? 0, ...rows.map((row) => row.length));
  const line = (cells: readonly string[]) =>
    `| ${[...cells, ...Array<string>(columns - cells.length).fill('')].join(' | ')} |`;
  return [header ? line(header) : `|${' |'.repeat(columns)}`, `|${'---|'.repeat(columns)}`, ...rows.map(line)].join(
    '\n',
  );
}

/** The headerless two-column table of a summary: a label (markdown) and a plain-text value per row. */
export function facts(rows: readonly (readonly [label: string, text: string])[]): string {
  return table(rows.map(([label, text]) => [label, cell(text)]));
}
