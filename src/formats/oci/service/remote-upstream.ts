/**
 * Requests to the upstream registry of a remote docker repository, with the registry's own
 * authentication (Docker Registry token authentication, as the CNCF registry, Docker Hub,
 * GHCR, Quay and Arca itself use it): the request goes out without credentials; a 401 with
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…` sends the remote's username and
 * password (when set) to the realm for a token, and the request is sent again with it; a
 * 401 with a Basic challenge only is answered with the credentials as Basic. Tokens are
 * kept per remote and scope until shortly before they expire.
 */
import type { Clock } from '../../../core/clock.js';
import type { RemoteSettings } from '../../../services/remote/remote-settings.js';
import { guardedRequest } from '../../../services/remote/guarded-http.js';
import { readSmall, upstreamRequest, UpstreamRefused, UpstreamUnreachable, type UpstreamResponse } from '../../../services/remote/upstream-client.js';

/** One challenge of a WWW-Authenticate header: its scheme and parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate` (several challenges may share one header, comma-separated). */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  const re = /([A-Za-z][\w-]*)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))|([A-Za-z][\w-]*)(?=\s|$)/g;
  let current: Challenge | undefined;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    if (m[4] !== undefined) {
      current = { scheme: m[4].toLowerCase(), params: {} };
      out.push(current);
    } else if (current) {
      current.params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    }
  }
  return out;
}

interface Token {
  value: string;
  /** Epoch ms after which the token is not used any more. */
  until: number;
}

/** Tokens are dropped this long before the upstream says they expire. */
const EXPIRY_MARGIN_MS = 10_000;
/** Lifetime assumed when the token service names none (the token specification's default). */
const DEFAULT_TOKEN_SECS = 60;

export class RegistryUpstream {
  private readonly tokens = new Map<string, Token>();
  /** Remotes whose upstream asked for Basic credentials: they are sent up front from then on. */
  private readonly basic = new Set<string>();

  constructor(private readonly clock: Clock) {}

  private basicHeader(s: RemoteSettings): string | undefined {
    return s.username ? `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}` : undefined;
  }

  /**
   * Sends a request below the remote's URL (`v2/…`), authenticating as the upstream asks.
   * `scope` is the token scope to use before the upstream names one (`repository:<name>:pull`).
   */
  async request(repoKey: string, settings: RemoteSettings, urlPath: string, init: { method?: string; headers?: Record<string, string> }, scope: string): Promise<UpstreamResponse> {
    // The shared client adds Basic credentials to every request; here they go only where asked for.
    const bare: RemoteSettings = { ...settings, username: '', password: '' };
    const send = (authorization?: string) =>
      upstreamRequest(bare, urlPath, { method: init.method, headers: { ...(init.headers ?? {}), ...(authorization ? { authorization } : {}) } });
    const key = `${repoKey}\u0000${scope}`;
    const cached = this.tokens.get(key);
    const first = cached && cached.until > this.clock.now() ? `Bearer ${cached.value}` : this.basic.has(repoKey) ? this.basicHeader(settings) : undefined;
    const res = await send(first);
    if (res.status !== 401) return res;
    const challenges = parseChallenges(res.headers.get('www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      res.cancel();
      const tokenScope = bearer.params.scope ?? scope;
      const token = await this.fetchToken(settings, bearer.params.realm, bearer.params.service, tokenScope);
      this.tokens.set(`${repoKey}\u0000${tokenScope}`, token);
      if (tokenScope !== scope) this.tokens.set(key, token);
      return send(`Bearer ${token.value}`);
    }
    const basic = this.basicHeader(settings);
    if (challenges.some((c) => c.scheme === 'basic') && basic && first !== basic) {
      res.cancel();
      this.basic.add(repoKey);
      return send(basic);
    }
    return res;
  }

  /** Asks the token service for a token (with the remote's credentials when it has some). */
  private async fetchToken(settings: RemoteSettings, realm: string, service: string | undefined, scope: string): Promise<Token> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UpstreamUnreachable("The upstream's token realm is not a URL");
    }
    if (service) url.searchParams.set('service', service);
    if (scope) url.searchParams.set('scope', scope);
    const authorization = this.basicHeader(settings);
    // The realm is the upstream's word: it gets the same address checks as the upstream itself
    // (a hostile registry could name a metadata address), and the remote's credentials.
    let res: UpstreamResponse;
    let text: string;
    try {
      res = await guardedRequest(settings.network, url.href, {
        headers: { 'user-agent': 'Arca remote repository', accept: 'application/json', ...(authorization ? { authorization } : {}) },
        timeoutMs: settings.socketTimeoutMillis,
      });
      text = (await readSmall(res, 1 << 20)).toString('utf8');
    } catch (err) {
      if (err instanceof UpstreamRefused) throw new UpstreamRefused(`The upstream's token service: ${err.message}`);
      throw new UpstreamUnreachable(`The upstream's token service ${url.origin}${url.pathname} is unreachable: ${(err as Error).message}`);
    }
    if (res.status !== 200) {
      throw new TokenRefused(`The upstream's token service ${url.origin}${url.pathname} answered HTTP ${res.status}${settings.username ? " with the remote's credentials" : ' (no credentials configured)'}`);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TokenRefused(`The upstream's token service ${url.origin}${url.pathname} did not answer JSON`);
    }
    const value = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (!value) throw new TokenRefused(`The upstream's token service ${url.origin}${url.pathname} gave no token`);
    const secs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECS;
    return { value, until: this.clock.now() + secs * 1000 - EXPIRY_MARGIN_MS };
  }
}

/** The upstream's token service refused the remote's credentials (or answered nonsense). */
export class TokenRefused extends Error {}
