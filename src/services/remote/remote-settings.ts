import { revealSecret } from '../../core/secrets.js';
import type { UpstreamNetwork } from './guarded-http.js';

/** The remote-repository fields of a JFrog repository configuration, with their defaults. */
export const REMOTE_DEFAULTS = {
  url: '',
  username: '',
  password: '',
  offline: false,
  /** How long a cached metadata file is served before the upstream is asked again. */
  retrievalCachePeriodSecs: 7200,
  /** How long an upstream 404 is remembered (the negative cache); 0 disables it. */
  missedRetrievalCachePeriodSecs: 1800,
  /** After a network failure, how long the upstream is treated as offline. */
  assumedOfflinePeriodSecs: 300,
  storeArtifactsLocally: true,
  /** Longest wait for the upstream's headers or for its next bytes. */
  socketTimeoutMillis: 15000,
  hardFail: false,
};

export interface RemoteSettings {
  url: string;
  username: string;
  /** In clear: decrypted with the master key. */
  password: string;
  offline: boolean;
  retrievalCachePeriodSecs: number;
  missedRetrievalCachePeriodSecs: number;
  assumedOfflinePeriodSecs: number;
  socketTimeoutMillis: number;
  /** Where the remote may connect (arca.remote.deniedAddresses / allowedAddresses), and the connections it uses. */
  network: UpstreamNetwork;
}

/** The settings a fetch needs, read from a remote repository's configuration. */
export function remoteSettingsOf(config: Record<string, unknown>, masterKey: Buffer | undefined, network: UpstreamNetwork): RemoteSettings {
  const num = (k: keyof typeof REMOTE_DEFAULTS) => (typeof config[k] === 'number' ? (config[k] as number) : (REMOTE_DEFAULTS[k] as number));
  const password = typeof config.password === 'string' ? config.password : '';
  return {
    url: String(config.url ?? '').replace(/\/+$/, ''),
    username: typeof config.username === 'string' ? config.username : '',
    password: password && masterKey ? revealSecret(masterKey, password) : password,
    offline: config.offline === true,
    retrievalCachePeriodSecs: num('retrievalCachePeriodSecs'),
    missedRetrievalCachePeriodSecs: num('missedRetrievalCachePeriodSecs'),
    assumedOfflinePeriodSecs: num('assumedOfflinePeriodSecs'),
    socketTimeoutMillis: num('socketTimeoutMillis'),
    network,
  };
}
