import type { ProviderType } from '../chain/types.js';
import { createS3FromNode, type S3Flavour } from './s3-provider.js';

/**
 * Google Cloud Storage through its S3-compatible XML API (https://storage.googleapis.com),
 * authenticated with an HMAC key (identity = access id, credential = secret) and signed with
 * SigV4 in region `auto`. Virtual-hosted addressing by default, as GCS documents; set
 * `enablePathStyleAccess=true` for path-style. `bucketExists=false` (the default) creates a missing bucket.
 * There is no GCS emulator here: the tests run this type against s3rver.
 */
const GOOGLE_FLAVOUR: S3Flavour = {
  service: 'Google Cloud Storage',
  defaultEndpoint: 'https://storage.googleapis.com',
  defaultRegion: 'auto',
  defaultPathStyle: false,
  bucketExistsParam: true,
};

/** `google-storage-v2` (alias `google-storage`, resolved by the catalogue). */
export const googleProviderType: ProviderType = {
  type: 'google-storage-v2',
  create: (args) => createS3FromNode(args, GOOGLE_FLAVOUR),
};
