import { describe, expect, it } from 'vitest';
import { aqlBodyForPattern, aqlQuery } from './aql.js';
import { encodeProps, parseProps } from './props.js';
import { escapePath } from './wire.js';

/** The replay's AQL builder against the bodies jfrog-client-go's own tests expect for these patterns. */
describe('CLI replay: AQL built from a pattern the way the CLI builds it', () => {
  const cases: [string, boolean, string][] = [
    ['repo-local', true, '{"$or":[{"$and":[{"repo":"repo-local","path":{"$match":"*"},"name":{"$match":"*"}}]}]}'],
    [
      'repo-w*ldcard',
      true,
      '{"$or":[{"$and":[{"repo":{"$match":"repo-w*"},"path":{"$match":"*"},"name":{"$match":"*ldcard"}}]},{"$and":[{"repo":{"$match":"repo-w*ldcard"},"path":{"$match":"*"},"name":{"$match":"*"}}]}]}',
    ],
    [
      'repo-local2/a*b*c/dd/',
      true,
      '{"path":{"$ne":"."},"$or":[{"$and":[{"repo":"repo-local2","path":{"$match":"a*b*c/dd"},"name":{"$match":"*"}}]},{"$and":[{"repo":"repo-local2","path":{"$match":"a*b*c/dd/*"},"name":{"$match":"*"}}]}]}',
    ],
    [
      'repo-local*/a*b*c/dd/',
      true,
      '{"path":{"$ne":"."},"$or":[{"$and":[{"repo":{"$match":"repo-local*"},"path":{"$match":"*a*b*c/dd"},"name":{"$match":"*"}}]},{"$and":[{"repo":{"$match":"repo-local*"},"path":{"$match":"*a*b*c/dd/*"},"name":{"$match":"*"}}]}]}',
    ],
    ['repo-local', false, '{"$or":[{"$and":[{"repo":"repo-local","path":".","name":{"$match":"*"}}]}]}'],
    [
      '*repo-local',
      false,
      '{"$or":[{"$and":[{"path":".","name":{"$match":"*repo-local"}}]},{"$and":[{"repo":{"$match":"*repo-local"},"path":".","name":{"$match":"*"}}]}]}',
    ],
    ['repo-local2/a*b*c/dd/', false, '{"path":{"$ne":"."},"$or":[{"$and":[{"repo":"repo-local2","path":{"$match":"a*b*c/dd"},"name":{"$match":"*"}}]}]}'],
  ];
  for (const [pattern, recursive, body] of cases) {
    it(`${pattern} (recursive ${recursive})`, () => expect(aqlBodyForPattern({ pattern, recursive })).toBe(body));
  }

  it('puts props, exclusions and include-dirs before the pattern triples, and "property" in the include list only when props are needed', () => {
    const body = aqlBodyForPattern({ pattern: 'r/a/*.jar', props: 'k=v', excludeProps: 'x=1', exclusions: ['*-sources.jar'], includeDirs: true });
    expect(body).toBe(
      '{"$and":[{"@k":"v"}],"$or":[{"@x":{"$ne":"1"}}],"type":"any","path":{"$ne":"."},' +
        // A pattern without a slash may also name a repository: two exclusion triples.
        '"$or":[{"path":{"$nmatch":"*"},"name":{"$nmatch":"*-sources.jar"}}],' +
        '"$or":[{"repo":{"$nmatch":"*-sources.jar"},"path":{"$nmatch":"*"},"name":{"$nmatch":"*"}}],' +
        '"$or":[{"$and":[{"repo":"r","path":"a","name":{"$match":"*.jar"}}]},{"$and":[{"repo":"r","path":{"$match":"a/*"},"name":{"$match":"*.jar"}}]}]}',
    );
    expect(aqlQuery({ pattern: 'r/' }, 'NONE')).toMatch(/\.include\("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created"\)$/);
    expect(aqlQuery({ pattern: 'r/' }, 'ALL')).toMatch(/,"created","property"\)$/);
    expect(aqlQuery({ pattern: 'r/', sortBy: ['size'], limit: 2 }, 'ALL')).toMatch(/"created"\)\.sort\(\{"\$asc":\["size"\]\}\)\.limit\(2\)$/);
  });

  it('encodes properties and paths the way the CLI puts them in URLs', () => {
    const props = parseProps('tier=gold,silver;note=a b;esc=x\\,y');
    expect(encodeProps(props, false)).toBe('esc=x%2Cy;note=a+b;tier=gold;tier=silver');
    expect(encodeProps(props, true)).toBe('esc=x%5C%2Cy;note=a+b;tier=gold%2Csilver');
    expect(escapePath('r/a b/c;d(1)+e.txt')).toBe('r/a%20b/c%3Bd%281%29+e.txt');
  });
});
