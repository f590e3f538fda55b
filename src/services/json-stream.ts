import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * A JSON object with one array member streamed: `template` is the object with every other
 * member, `key` names the array, whose elements `pages` yields a page at a time. The text is
 * exactly what JSON.stringify gives for the whole object, member order included, without the
 * whole array ever in memory. The stream pulls the next page only when the client has taken the
 * text so far. A failure after the first byte ends the response early (the client sees a
 * truncated body, never a well-formed partial list).
 */
export function streamJsonObject(template: Record<string, unknown>, key: string, pages: AsyncIterable<unknown[]>): Readable {
  const mark = `\u0001${randomBytes(8).toString('hex')}`;
  const text = JSON.stringify({ ...template, [key]: mark });
  const at = text.indexOf(JSON.stringify(mark));
  const head = text.slice(0, at);
  const tail = text.slice(at + JSON.stringify(mark).length);
  async function* chunks(): AsyncGenerator<string> {
    let first = true;
    yield `${head}[`;
    for await (const page of pages) {
      if (page.length === 0) continue;
      const body = page.map((e) => JSON.stringify(e)).join(',');
      yield first ? body : `,${body}`;
      first = false;
    }
    yield `]${tail}`;
  }
  return Readable.from(chunks(), { objectMode: false });
}
