import { describe, expect, it } from 'vitest';
import { negotiate, representationOf, SIMPLE_HTML, SIMPLE_JSON } from './negotiate.js';

const ct = (accept: string | undefined) => negotiate(accept)?.contentType;

describe('PEP 691 content negotiation', () => {
  it('answers what pip asks for: JSON first', () => {
    expect(ct('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01')).toBe(SIMPLE_JSON);
  });
  it('honours q-values whatever the order', () => {
    expect(ct('application/vnd.pypi.simple.v1+json; q=0.2, text/html')).toBe('text/html');
    expect(ct('text/html;q=0.5, application/vnd.pypi.simple.v1+html;q=0.9')).toBe(SIMPLE_HTML);
  });
  it('defaults to text/html without a preference', () => {
    expect(ct(undefined)).toBe('text/html');
    expect(ct('')).toBe('text/html');
    expect(ct('*/*')).toBe('text/html');
    expect(ct('text/*')).toBe('text/html');
    expect(ct('application/*')).toBe(SIMPLE_JSON);
  });
  it('maps the latest aliases to v1', () => {
    expect(ct('application/vnd.pypi.simple.latest+json')).toBe(SIMPLE_JSON);
    expect(ct('application/vnd.pypi.simple.latest+html')).toBe(SIMPLE_HTML);
  });
  it('prefers the type listed first on equal q', () => {
    expect(ct('application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json')).toBe(SIMPLE_HTML);
  });
  it('finds nothing for unsupported types or q=0', () => {
    expect(negotiate('application/vnd.pypi.simple.v2+json')).toBeUndefined();
    expect(negotiate('application/json')).toBeUndefined();
    expect(negotiate('text/html;q=0, application/vnd.pypi.simple.v1+json;q=0')).toBeUndefined();
    expect(negotiate('*/*;q=0')).toBeUndefined();
  });
  it('resolves ?format= values', () => {
    expect(representationOf('application/vnd.pypi.simple.latest+json')?.format).toBe('json');
    expect(representationOf('text/html')?.format).toBe('html');
    expect(representationOf('text/plain')).toBeUndefined();
  });

  it("takes no Object member for an alias (an Accept of 'constructor' is just an unknown type)", () => {
    expect(representationOf('constructor')).toBeUndefined();
    expect(representationOf('__proto__')).toBeUndefined();
    expect(negotiate('constructor, toString;q=0.5')).toBeUndefined();
  });
});
