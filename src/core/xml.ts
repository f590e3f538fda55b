import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { ArcaError } from './errors.js';

/**
 * The one way Arca parses XML (POMs, maven-metadata.xml, binarystore.xml). A linear pre-scan
 * bounds the document before any parser sees it, so nothing below grows with hostile input:
 * size, nesting depth and element count have limits, and entity declarations are refused,
 * which bounds entity expansion to the predefined entities and character references (each
 * expands to one character). Every refusal, and any error the parser itself throws, is a
 * BAD_REQUEST that names `what` and the limit.
 *
 * It lives in core/ (otherwise free of dependencies) because config/ (binarystore.xml) and
 * formats/ (Maven) both parse XML and must share these bounds: one place, one parser.
 */
export interface XmlLimits {
  /** Bytes of the document (UTF-8). */
  maxBytes: number;
  /** Elements open at once. */
  maxDepth: number;
  /** Elements in the whole document. */
  maxElements: number;
}

export const XML_LIMITS: XmlLimits = { maxBytes: 16 << 20, maxDepth: 100, maxElements: 200_000 };

const parsers = new WeakMap<X2jOptions, XMLParser>();

function refuse(what: string, reason: string, details: Record<string, unknown>): ArcaError {
  return new ArcaError('BAD_REQUEST', `Malformed ${what}: ${reason}`, { xml: what, ...details });
}

/** The index just past the `>` that closes the tag opened at `from`, skipping quoted attribute values; -1 when unclosed. */
function tagEnd(text: string, from: number): number {
  let quote = '';
  for (let j = from; j < text.length; j++) {
    const ch = text[j];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return j + 1;
  }
  return -1;
}

/**
 * Walks the markup once (each character is looked at a bounded number of times) and throws
 * on the first limit passed. Well-formedness is left to the validator that runs next; this
 * pass only has to stay linear on any input.
 */
export function checkXmlLimits(text: string, what: string, limits: XmlLimits = XML_LIMITS): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) throw refuse(what, `the document has ${bytes} bytes, more than the limit of ${limits.maxBytes} bytes`, { limit: 'maxBytes', max: limits.maxBytes });
  let depth = 0;
  let elements = 0;
  let i = text.indexOf('<');
  while (i !== -1 && i < text.length) {
    let next: number;
    if (text.startsWith('<!--', i)) next = endAfter(text, '-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) next = endAfter(text, ']]>', i + 9);
    else if (text.startsWith('<?', i)) next = endAfter(text, '?>', i + 2);
    else if (text.startsWith('<!', i)) {
      // A DOCTYPE (or another declaration): its internal subset may not declare entities.
      const open = text.indexOf('[', i);
      const close = tagEnd(text, i + 2);
      if (open !== -1 && (close === -1 || open < close)) {
        const subsetEnd = text.indexOf(']', open);
        const subset = text.slice(open, subsetEnd === -1 ? text.length : subsetEnd);
        if (/<!ENTITY/i.test(subset)) {
          throw refuse(what, 'entity declarations are not allowed (the limit is 0 declared entities: only the predefined XML entities and character references expand)', {
            limit: 'entities',
            max: 0,
          });
        }
        next = subsetEnd === -1 ? -1 : tagEnd(text, subsetEnd);
      } else next = close;
    } else if (text[i + 1] === '/') {
      depth--;
      next = tagEnd(text, i + 2);
    } else {
      if (++elements > limits.maxElements) {
        throw refuse(what, `more than ${limits.maxElements} elements (the limit of elements in one document)`, { limit: 'maxElements', max: limits.maxElements });
      }
      next = tagEnd(text, i + 1);
      const selfClosing = next !== -1 && text[next - 2] === '/';
      if (!selfClosing && ++depth > limits.maxDepth) {
        throw refuse(what, `elements nested more than ${limits.maxDepth} deep (the nesting depth limit is ${limits.maxDepth})`, { limit: 'maxDepth', max: limits.maxDepth });
      }
    }
    if (next === -1) return;
    i = text.indexOf('<', next);
  }
}

function endAfter(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at === -1 ? -1 : at + marker.length;
}

/**
 * Parses `data` with fast-xml-parser `options` after `checkXmlLimits` and the validator.
 * The safety options (entity processing, nesting) are set here whatever `options` says.
 * Pass the same options object each time: its parser is built once.
 */
export function parseXml(data: Buffer | string, what: string, options: X2jOptions = {}, limits: XmlLimits = XML_LIMITS): unknown {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  checkXmlLimits(text, what, limits);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw refuse(what, `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`, { line: valid.err.line, column: valid.err.col });
  let parser = parsers.get(options);
  if (!parser) {
    parser = new XMLParser({
      ...options,
      htmlEntities: false,
      // Only the predefined entities remain to expand: declarations were refused above.
      processEntities: true,
      // The pre-scan already bounds depth; the parser's own guard must not trip first.
      maxNestedTags: limits.maxDepth + 1,
    });
    parsers.set(options, parser);
  }
  try {
    return parser.parse(text);
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Malformed ${what}: ${(err as Error).message}`, { xml: what }, err);
  }
}
