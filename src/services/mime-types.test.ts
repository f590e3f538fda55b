import { describe, expect, it } from 'vitest';
import { mimeTypeOf } from './mime-types.js';

describe('mimeTypeOf', () => {
  it('names the type of known extensions, in any case', () => {
    expect(mimeTypeOf('lib-1.0.JAR')).toBe('application/java-archive');
    expect(mimeTypeOf('index.json')).toBe('application/json');
  });

  it("answers octet-stream for unknown extensions, no extension, and names of Object's own members", () => {
    for (const name of ['README', 'x.unknownext', '+..constructor', 'a.__proto__', 'b.toString', 'c.hasOwnProperty', 'd.valueOf']) {
      expect(mimeTypeOf(name), name).toBe('application/octet-stream');
    }
  });
});
