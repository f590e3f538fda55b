import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * A JSON object with one array member streamed: `template` is the object with every other
 * member, `key` names the array, and each text `texts` yields is one or more of its elements,
 * already JSON, joined by commas (an empty text is skipped). The whole is exactly what
 * JSON.stringify gives for the object with the array in it, member order included, without
 * the array ever in memory. The stream pulls the next text only when the client has taken the
 * text so far. A failure after the first byte ends the response early (the client sees a
 * truncated body, never a well-formed partial list).
 */
export function streamJsonText(template: Record<string, unknown>, key: string, texts: AsyncIterable<string>): Readable {
  const mark = `\u0001${randomBytes(8).toString('hex')}`;
  const text = JSON.stringify({ ...template, [key]: mark });
  const at = text.indexOf(JSON.stringify(mark));
  const head = text.slice(0, at);
  const tail = text.slice(at + JSON.stringify(mark).length);
  async function* chunks(): AsyncGenerator<string> {
    let first = true;
    yield `${head}[`;
    for await (const t of texts) {
      if (t === '') continue;
      yield first ? t : `,${t}`;
      first = false;
    }
    yield `]${tail}`;
  }
  return Readable.from(chunks(), { objectMode: false });
}
