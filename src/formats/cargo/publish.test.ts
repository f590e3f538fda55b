import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crateOf, publishBody, publishMetadata } from '../../../test/helpers/cargo-crates.js';
import { MAX_CRATE_BYTES, MAX_METADATA_BYTES, parseIndexLines, parsePublishMetadata, splitPublishBody } from './publish.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

describe('cargo publish body', () => {
  const crate = crateOf('demo', '1.0.0');
  const body = publishBody(publishMetadata('demo', '1.0.0'), crate);

  it('splits the two length-prefixed parts', () => {
    const { metadata, crate: got } = splitPublishBody(body);
    expect((metadata as { name: string }).name).toBe('demo');
    expect(got.equals(crate)).toBe(true);
  });

  it('refuses a body truncated anywhere', () => {
    for (const cut of [0, 3, 4, 20, body.length - crate.length - 2, body.length - 1]) {
      expect(() => splitPublishBody(body.subarray(0, cut)), `cut at ${cut}`).toThrow(/truncated/);
    }
  });

  it('refuses lengths beyond the limits before reading on, and bytes after the crate', () => {
    expect(() => splitPublishBody(Buffer.concat([u32(MAX_METADATA_BYTES + 1), Buffer.alloc(16)]))).toThrow(/metadata is larger/);
    expect(() => splitPublishBody(Buffer.concat([u32(2), Buffer.from('{}'), u32(MAX_CRATE_BYTES + 1)]))).toThrow(/crate is larger/);
    expect(() => splitPublishBody(Buffer.concat([body, Buffer.from('x')]))).toThrow(/after the crate/);
    expect(() => splitPublishBody(Buffer.concat([u32(3), Buffer.from('{x}'), u32(0)]))).toThrow(/not JSON/);
  });
});

describe('cargo index lines from publish metadata', () => {
  const crate = crateOf('demo', '1.0.0');

  it('makes the line cargo reads: renamed dependencies, sha256, features2, rust_version', () => {
    const meta = publishMetadata(
      'demo',
      '1.0.0',
      [
        { name: 'base', version_req: '^0.1' },
        { name: 'other-crate', version_req: '=2.0.0', explicit_name_in_toml: 'other', kind: 'dev', registry: 'sparse+https://x/index/' },
      ],
      { features: { default: ['std'], std: [], serde: ['dep:serde'] }, rust_version: '1.70', links: 'z' },
    );
    const { line, description } = parsePublishMetadata(meta, crate);
    expect(description).toBe('The demo crate');
    expect(line).toEqual({
      name: 'demo',
      vers: '1.0.0',
      deps: [
        { name: 'base', req: '^0.1', features: [], optional: false, default_features: true, target: null, kind: 'normal' },
        { name: 'other', package: 'other-crate', req: '=2.0.0', features: [], optional: false, default_features: true, target: null, kind: 'dev', registry: 'sparse+https://x/index/' },
      ],
      cksum: createHash('sha256').update(crate).digest('hex'),
      features: { default: ['std'], std: [] },
      features2: { serde: ['dep:serde'] },
      yanked: false,
      links: 'z',
      v: 2,
      rust_version: '1.70',
    });
  });

  it('refuses names and versions that break the rules', () => {
    expect(() => parsePublishMetadata(publishMetadata('9lives', '1.0.0'), crate)).toThrow(/start with/);
    expect(() => parsePublishMetadata(publishMetadata('demo', '1.0'), crate)).toThrow(/semantic version/);
    expect(() => parsePublishMetadata(publishMetadata('demo', '1.0.0', [{ name: 'x y', version_req: '1' }]), crate)).toThrow(/Dependency 0/);
    expect(() => parsePublishMetadata(publishMetadata('demo', '1.0.0', [{ name: 'xy' }]), crate)).toThrow(/version requirement/);
    expect(() => parsePublishMetadata(publishMetadata('demo', '1.0.0', [{ name: 'xy', version_req: '1', kind: 'weird' }]), crate)).toThrow(/kind/);
    expect(() => parsePublishMetadata([], crate)).toThrow(/object/);
  });

  it('reads index files back, skipping lines that are not JSON', () => {
    const lines = parseIndexLines('{"name":"a","vers":"1.0.0"}\nnot json\n\n{"name":"a","vers":"1.1.0","yanked":true}\n');
    expect(lines.map((l) => l.vers)).toEqual(['1.0.0', '1.1.0']);
  });
});
