import { describe, expect, it } from 'vitest';
import { ociHandler } from './oci-handler.js';
import { blobLinkPath, digestFolder, isTagFolderName, isUploadId, referrerLinkPath, uploadPartPath } from './layout.js';
import { referrersIndex } from './referrers.js';
import { parseManifest } from './manifest.js';
import { parseDigest } from './reference.js';

const D = parseDigest(`sha256:${'a'.repeat(64)}`);
const E = parseDigest(`sha256:${'e'.repeat(64)}`);

describe('registry layout, handler and referrers index', () => {
  it('places blobs, sessions, manifests and referrers as Artifactory does', () => {
    expect(blobLinkPath('team/app', D)).toBe(`team/app/_uploads/sha256__${'a'.repeat(64)}`);
    expect(uploadPartPath('app', '0f0f0f0f-0000-4000-8000-000000000000', 2048)).toBe('app/_uploads/0f0f0f0f-0000-4000-8000-000000000000/part-0000000000002048');
    expect(digestFolder('app', D)).toBe(`app/sha256:${'a'.repeat(64)}`);
    expect(referrerLinkPath('app', D, E)).toBe(`app/_referrers/${D.text}/${E.text}`);
    expect([isTagFolderName('v1'), isTagFolderName('_uploads'), isTagFolderName('_referrers'), isTagFolderName(D.text)]).toEqual([true, false, false, false]);
    expect([isUploadId('0f0f0f0f-0000-4000-8000-000000000000'), isUploadId('../x')]).toEqual([true, false]);
  });

  it('classifies tag manifests as metadata and content by digest as artifacts; refuses generic deploys', async () => {
    expect(ociHandler.classify('app/v1/manifest.json')).toBe('metadata');
    expect(ociHandler.classify('app/v1/list.manifest.json')).toBe('metadata');
    expect(ociHandler.classify(`app/${D.text}/manifest.json`)).toBe('artifact');
    expect(ociHandler.classify(`app/v1/sha256__${'a'.repeat(64)}`)).toBe('artifact');
    const repo = { key: 'docker-local', rclass: 'local', packageType: 'docker' };
    await expect(ociHandler.beforeDeploy!({ repo, path: 'app/v1/manifest.json', store: undefined as never })).rejects.toThrow(/registry API/);
  });

  it('builds the referrers index with artifact types, annotations and the artifactType filter', () => {
    const m = (extra: object) =>
      parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: D.text, size: 2 }, layers: [], ...extra })), undefined);
    const refs = [
      { digest: E.text, size: 300, manifest: m({ artifactType: 'application/x.sig' }) },
      { digest: D.text, size: 200, manifest: m({ annotations: { a: 'b' } }) },
    ];
    const all = referrersIndex(refs);
    expect(all.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(all.manifests).toEqual([
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 200, digest: D.text, artifactType: 'application/vnd.oci.empty.v1+json', annotations: { a: 'b' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 300, digest: E.text, artifactType: 'application/x.sig' },
    ]);
    expect(referrersIndex(refs, 'application/x.sig').manifests.map((x) => x.digest)).toEqual([E.text]);
    expect(referrersIndex(refs, 'application/none').manifests).toEqual([]);
  });
});
