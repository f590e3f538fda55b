import { describe, expect, it } from 'vitest';
import { isArcaError } from './errors.js';
import { checkXmlLimits, parseXml, XML_LIMITS } from './xml.js';

const nested = (n: number) => `<r>${'<a>'.repeat(n)}x${'</a>'.repeat(n)}</r>`;
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(isArcaError(err, 'BAD_REQUEST')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('bounded XML parsing', () => {
  it('parses ordinary documents, with comments, CDATA, quoted ">" and predefined entities', () => {
    const doc = parseXml('<?xml version="1.0"?><!DOCTYPE r><!-- <a><a> --><r k="a>b"><![CDATA[<x><x>]]><v>&lt;1&amp;2&gt;</v><e/></r>', 'doc') as { r: { v: string } };
    expect(doc.r.v).toBe('<1&2>');
  });

  it('refuses nesting past the depth limit, naming it, at any depth (no stack overflow)', () => {
    expect(() => parseXml(nested(XML_LIMITS.maxDepth - 2), 'doc')).not.toThrow();
    for (const n of [XML_LIMITS.maxDepth + 1, 100_000, 2_000_000]) expect(refusal(() => parseXml(nested(n), 'POM'))).toMatch(/^Malformed POM: .*nesting depth limit is 100/);
  });

  it('refuses documents past the element-count and size limits', () => {
    const many = `<r>${'<a/>'.repeat(50)}</r>`;
    expect(refusal(() => checkXmlLimits(many, 'doc', { ...XML_LIMITS, maxElements: 20 }))).toMatch(/more than 20 elements/);
    expect(refusal(() => checkXmlLimits(many, 'doc', { ...XML_LIMITS, maxBytes: 100 }))).toMatch(/limit of 100 bytes/);
  });

  it('refuses entity declarations (billion laughs, external entities)', () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;
    expect(refusal(() => parseXml(lol, 'doc'))).toMatch(/entity declarations are not allowed.*limit is 0/);
    expect(refusal(() => parseXml('<!DOCTYPE r [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]><r>&x;</r>', 'doc'))).toMatch(/entity declarations/);
  });

  it('turns malformed XML and parser errors into BAD_REQUEST', () => {
    expect(refusal(() => parseXml('<r><a></r>', 'doc'))).toMatch(/^Malformed doc: /);
    // Unterminated constructs end the scan without throwing anything but BAD_REQUEST.
    for (const bad of ['<r', '<!--', '<![CDATA[', '<?x', '<!DOCTYPE [', '<r a="', '</']) refusal(() => parseXml(bad, 'doc'));
  });
});
