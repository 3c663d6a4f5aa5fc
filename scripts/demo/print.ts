// Human output of `npm run demo`: step headings, indented details, the final table and rendered markdown.

export interface Printer {
  line(text?: string): void;
}

export const consolePrinter: Printer = { line: (text = '') => console.log(text) };

export function heading(out: Printer, text: string): void {
  out.line();
  out.line(`▶ ${text}`);
}

export function detail(out: Printer, text: string): void {
  for (const line of text.split('\n')) out.line(`  ${line}`);
}

/** A plain-text table: columns padded to their widest cell, a rule under the header. */
export function table(out: Printer, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c)))
      .join('  ')
      .trimEnd();
  out.line(`  ${render(header)}`);
  out.line(`  ${widths.map((w) => '─'.repeat(w)).join('  ')}`);
  for (const row of rows) out.line(`  ${render(row)}`);
}

/** Display width: every code point counts one column (the demo prints no wide characters in table cells). */
function width(text: string): number {
  return [...text].length;
}

/** Markdown shown inside a frame, so where the rendered text begins and ends is plain. */
export function framed(out: Printer, title: string, markdown: string): void {
  out.line(`  ┌─ ${title}`);
  for (const line of markdown.trimEnd().split('\n')) out.line(`  │ ${line}`);
  out.line('  └─');
}

export function short(sha: string): string {
  return sha.slice(0, 7);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
