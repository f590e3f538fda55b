import { describe, expect, it } from 'vitest';
import { haproxyConfig, LbConfigError, nginxConfig, nginxServerBlocks, parseListen, READINESS_PATH, upstreamOf } from './lb-config.js';

const nodes = [
  { id: 'art1', contextUrl: 'http://10.0.0.121:8081/artifactory', state: 'RUNNING' },
  { id: 'art2', contextUrl: 'http://10.0.0.122:8081/artifactory', state: 'STOPPED' },
  { id: 'art 3', contextUrl: 'http://[fd00::3]/artifactory' },
];

describe('upstreamOf', () => {
  it('strips the context path and fills the default port', () => {
    expect(upstreamOf(nodes[0])).toMatchObject({ address: '10.0.0.121:8081', scheme: 'http' });
    expect(upstreamOf(nodes[2])).toMatchObject({ address: '[fd00::3]:80' });
    expect(upstreamOf({ id: 'a', contextUrl: 'https://node-a.example/artifactory' })).toMatchObject({ address: 'node-a.example:443', scheme: 'https' });
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => upstreamOf({ id: 'a', contextUrl: 'node-a:8081' })).toThrow(LbConfigError);
    expect(() => upstreamOf({ id: 'a', contextUrl: 'ftp://node-a/artifactory' })).toThrow(/not http/);
  });
});

describe('parseListen', () => {
  it('takes a port, an address and port, or an IPv6 address in brackets', () => {
    expect(parseListen(undefined)).toEqual({ address: undefined, port: 80 });
    expect(parseListen('8080')).toEqual({ address: undefined, port: 8080 });
    expect(parseListen('127.0.0.1:8080')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:8080')).toEqual({ address: '[::1]', port: 8080 });
    expect(() => parseListen('http://x')).toThrow(/--listen/);
    expect(() => parseListen('70000')).toThrow(/--listen/);
  });
});

describe('nginx configuration', () => {
  const text = nginxServerBlocks({ nodes, listen: '8080', generatedAt: 'T' });

  it('lists every node as an upstream server with passive checks', () => {
    expect(text).toContain('server 10.0.0.121:8081 max_fails=2 fail_timeout=10s; # art1 (RUNNING when generated)');
    expect(text).toContain('server 10.0.0.122:8081 max_fails=2 fail_timeout=10s; # art2 (STOPPED when generated)');
    expect(text).toContain('server [fd00::3]:80 max_fails=2 fail_timeout=10s; # art 3');
    expect(text).toMatch(/passive/i);
    expect(text).toContain(READINESS_PATH);
  });

  it('streams bodies without a size limit, with long timeouts and the forwarded headers', () => {
    for (const line of [
      'client_max_body_size 0;',
      'proxy_request_buffering off;',
      'proxy_buffering off;',
      'proxy_read_timeout 900s;',
      'proxy_send_timeout 900s;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header X-Forwarded-Host $http_host;',
      'proxy_pass http://arca_nodes;',
      'listen 8080;',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('retries on the next node without replaying non-idempotent requests', () => {
    expect(text).toMatch(/^\s*proxy_next_upstream error timeout http_502 http_503 http_504;$/m);
    expect(text).not.toMatch(/^\s*proxy_next_upstream .*non_idempotent/m);
    expect(text).toContain('proxy_next_upstream_tries 3;');
    // GET and HEAD are buffered (nothing to buffer) so nginx may resend them; the rest streams.
    expect(text).toMatch(/location \/ \{\n\s+error_page 418 = @stream;\n\s+if \(\$request_method !~ \^\(GET\|HEAD\)\$\) \{\n\s+return 418;/);
    expect(text).toMatch(/proxy_request_buffering on;\n\s+proxy_pass http:\/\/arca_nodes;/);
    expect(text).toMatch(/location @stream \{\n\s+proxy_pass http:\/\/arca_nodes;/);
  });

  it('makes a complete configuration whose paths stay in the prefix', () => {
    const full = nginxConfig({ nodes, timeoutSecs: 60, generatedAt: 'T' });
    expect(full).toMatch(/^events \{/m);
    expect(full).toMatch(/^http \{/m);
    expect(full).toContain('pid nginx.pid;');
    expect(full).toContain('proxy_read_timeout 60s;');
    expect(full).not.toMatch(/^\s*(pid|error_log|access_log|\w+_temp_path) \//m);
  });

  it('proxies to https nodes over https and refuses a mix', () => {
    const https = nginxServerBlocks({ nodes: [{ id: 'a', contextUrl: 'https://a:8443/artifactory' }] });
    expect(https).toContain('proxy_pass https://arca_nodes;');
    expect(() => nginxServerBlocks({ nodes: [nodes[0], { id: 'b', contextUrl: 'https://b/artifactory' }] })).toThrow(/mix http and https/);
  });

  it('refuses no nodes and two nodes on one address', () => {
    expect(() => nginxConfig({ nodes: [] })).toThrow(/No nodes/);
    expect(() => nginxConfig({ nodes: [nodes[0], { id: 'x', contextUrl: 'http://10.0.0.121:8081/other' }] })).toThrow(/same address/);
  });
});

describe('haproxy configuration', () => {
  const text = haproxyConfig({ nodes, listen: '127.0.0.1:8080', generatedAt: 'T' });

  it('checks readiness actively and names the servers after the nodes', () => {
    expect(text).toContain('option httpchk');
    expect(text).toContain(`http-check send meth GET uri ${READINESS_PATH}`);
    expect(text).toContain('http-check expect status 200');
    expect(text).toContain('server art1 10.0.0.121:8081 check');
    expect(text).toContain('server art_3 [fd00::3]:80 check');
    expect(text).toContain('bind 127.0.0.1:8080');
  });

  it('retries GET and HEAD on another node, other methods only when the connection failed', () => {
    expect(text).toContain('option redispatch');
    expect(text).toMatch(/^\s*retry-on conn-failure .*503/m);
    expect(text).toContain('http-request disable-l7-retry if !METH_GET !METH_HEAD');
  });

  it('forwards the client facts and allows long transfers', () => {
    expect(text).toContain('option forwardfor');
    expect(text).toContain('X-Forwarded-Proto');
    expect(text).toContain('X-Forwarded-Host');
    expect(text).toContain('timeout server 900s');
    expect(text).toContain('timeout client 900s');
  });
});
