import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { OCI_ERROR_CODES } from '../formats/oci/oci-errors.js';
import { STATUS_BY_CODE } from './error-mapper.js';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the Markdown table under `heading`: its cells, without the header and rule rows. */
function tableRows(heading: string): string[][] {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no '## ${heading}' section`);
  const next = DOC.indexOf('\n## ', start + 1);
  const lines = DOC.slice(start, next < 0 ? undefined : next).split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

describe('docs/errors.md', () => {
  it('documents every catalogue code once, with the status the mapper answers and when it is raised', () => {
    const rows = tableRows('The catalogue');
    const documented = rows.map((r) => unquote(r[0]));
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, status, when] of rows) {
      expect(`${unquote(code)} ${status}`).toBe(`${unquote(code)} ${STATUS_BY_CODE[unquote(code) as ErrorCode]}`);
      expect(when, `${code} says when it is raised`).not.toBe('');
    }
  });

  it('documents every OCI registry code with the catalogue code it stands for', () => {
    const rows = tableRows('OCI registry codes');
    expect(rows.map((r) => unquote(r[0])).sort()).toEqual(Object.keys(OCI_ERROR_CODES).sort());
    for (const [oci, arca] of rows) {
      const code = OCI_ERROR_CODES[unquote(oci) as keyof typeof OCI_ERROR_CODES].arca;
      expect(arca).toBe(`\`${code}\` (${STATUS_BY_CODE[code]})`);
    }
  });
});
