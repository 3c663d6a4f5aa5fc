import { bullets, cell, code, facts, inline, quote, table } from '../../src/core/markdown';

describe('markdown cells', () => {
  it('keeps a table cell on one line, its pipes escaped and free of HTML', () => {
    expect(cell('a | b\n<script>')).toBe('a \\| b<br>&lt;script&gt;');
    expect(cell('one\r\ntwo\rthree')).toBe('one<br>two<br>three');
    expect(cell('fish & chips')).toBe('fish &amp; chips');
  });

  it('doubles the backslashes before a pipe, so that the pipe stays escaped', () => {
    // a\|b would otherwise become a\\|b: an escaped backslash, then a pipe that ends the cell.
    expect(cell('a\\|b')).toBe('a\\\\\\|b');
    expect(cell('a\\\\|b')).toBe('a\\\\\\\\\\|b');
    // A backslash elsewhere is left alone.
    expect(cell('C:\\temp')).toBe('C:\\temp');
  });

  it('makes code spans that neither end early nor break a table row', () => {
    expect(code('sha-abc')).toBe('`sha-abc`');
    expect(code('a`b|c\nd')).toBe("`a'b\\|c d`");
  });

  it('puts prose on one line and quotes every line of a quote', () => {
    expect(inline('two\nlines <b>')).toBe('two lines &lt;b&gt;');
    expect(quote('failed:\n  <reason>')).toBe('> failed:\n>   &lt;reason&gt;');
    expect(bullets(['a\nb', 'c'])).toBe('- a b\n- c');
  });
});

describe('markdown tables', () => {
  it('lays out a headed table, padding short rows', () => {
    expect(
      table(
        [
          ['build', '✅', ''],
          ['deploy', '❌'],
        ],
        ['Phase', 'Status', 'Detail'],
      ),
    ).toBe(['| Phase | Status | Detail |', '|---|---|---|', '| build | ✅ |  |', '| deploy | ❌ |  |'].join('\n'));
  });

  it('gives a headerless table an empty header row, and escapes the values of a facts table', () => {
    expect(table([['a', 'b']])).toBe('| | |\n|---|---|\n| a | b |');
    expect(
      facts([
        ['Image', 'web@sha256:ab'],
        ['Error', 'exit 1 | see log\nline 2'],
      ]),
    ).toBe('| | |\n|---|---|\n| Image | web@sha256:ab |\n| Error | exit 1 \\| see log<br>line 2 |');
  });
});
