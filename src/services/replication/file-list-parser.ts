/**
 * A streaming reader of the seed's deep file list (`GET /api/storage/{repo}?list&deep=1`):
 * `{"uri":…,"created":…,"files":[{…},{…}]}`. It yields each element of the top-level
 * `files` array as soon as its closing brace arrives, so a catalogue of any size is read
 * with memory bounded by one element. Each element's text is cut out by tracking strings
 * and nesting, then parsed with JSON.parse; anything else in the document is skipped.
 */
export interface ListedFile {
  /** `/a/b.jar`, relative to the listed folder. */
  uri: string;
  size?: number;
  folder?: boolean;
  sha1?: string;
  sha2?: string;
}

/** Longest element text accepted (a safety bound against a hostile or broken target). */
const MAX_ELEMENT = 1 << 20;

export async function* parseFileList(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<ListedFile> {
  const decoder = new TextDecoder();
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** The string just read at depth 1 (a key of the root object), and whether a ':' followed. */
  let lastKey = '';
  let keyText = '';
  let collectingKey = false;
  /** Inside the root's `files` array (its depth is 2). */
  let inFiles = false;
  let element: string[] | undefined;
  let elementStart = 0;
  let elementLength = 0;
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    elementStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) {
          inString = false;
          if (collectingKey) collectingKey = false;
        }
        if (collectingKey) keyText += text[i];
        continue;
      }
      if (c === 0x22) {
        inString = true;
        if (depth === 1) {
          collectingKey = true;
          keyText = '';
        }
      } else if (c === 0x3a && depth === 1) {
        lastKey = keyText;
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
        if (depth === 2 && c === 0x5b && lastKey === 'files') inFiles = true;
        if (inFiles && depth === 3 && c === 0x7b) {
          element = [];
          elementStart = i;
          elementLength = 0;
        }
      } else if (c === 0x7d || c === 0x5d) {
        if (inFiles && depth === 3 && c === 0x7d && element) {
          element.push(text.slice(elementStart, i + 1));
          const parsed = JSON.parse(element.join('')) as ListedFile;
          element = undefined;
          if (parsed && typeof parsed.uri === 'string') yield parsed;
        }
        if (depth === 2 && inFiles) inFiles = false;
        depth--;
        if (depth === 1) lastKey = '';
      }
    }
    if (element) {
      const rest = text.slice(elementStart);
      elementLength += rest.length;
      if (elementLength > MAX_ELEMENT) throw new Error(`a file list element is over ${MAX_ELEMENT} characters`);
      element.push(rest);
    }
  }
  if (depth !== 0 || inString) throw new Error('the file list ended before its JSON was complete');
}
