import type { LightMyRequestResponse } from 'fastify';
import type { ClusterNode } from './cluster-nodes.js';

export const LOGIN_URL = '/artifactory/ui/api/v1/ui/auth/login';
export const LOGOUT_URL = '/artifactory/ui/api/v1/ui/auth/logout';
export const CURRENT_URL = '/artifactory/ui/api/v1/ui/auth/current';

/** POST …/auth/login through `node` without other credentials. */
export function uiLogin(node: ClusterNode, user: string, password: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return node.request({
    method: 'POST',
    url: LOGIN_URL,
    headers: { authorization: '', 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ user, password }),
  });
}

/** The session cookie's value set by a response (fails the test when there is none). */
export function sessionToken(r: LightMyRequestResponse): string {
  const header = String(r.headers['set-cookie'] ?? '');
  const m = /^ARCA_SESSION=([^;]*)/.exec(header);
  if (!m) throw new Error(`no session cookie in ${r.statusCode} response: ${header} ${r.body}`);
  return m[1];
}

/** A request authenticated by the session cookie only. */
export function withCookie(node: ClusterNode, token: string, url: string, more: { method?: string; headers?: Record<string, string>; payload?: string } = {}) {
  return node.request({
    method: (more.method ?? 'GET') as 'GET',
    url,
    headers: { authorization: '', cookie: `theme=dark; ARCA_SESSION=${token}`, ...(more.headers ?? {}) },
    payload: more.payload,
  });
}
