import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newDocument, signLicense } from '../../../src/cluster/licenses/license-key.js';
import { BOOTSTRAP_FILE, PUBLIC_KEY_FILE } from '../../../src/cluster/licenses/license-settings.js';
import { ADMIN_PASSWORD } from '../../helpers/credentials.js';
import { ARCA_BIN } from '../../helpers/node-process.js';
import type { ClusterNode } from '../harness/cluster.js';

/** A license issuer for the test: the nodes trust its public key. */
export class TestIssuer {
  private readonly privateKey: KeyObject;
  readonly publicKeyPem: string;

  constructor() {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  issue(licensedTo: string, validThrough: string): string {
    return signLicense(newDocument(licensedTo, 'Enterprise', validThrough, Date.now()), this.privateKey);
  }

  /** Every node trusts the key (etc/security/license-public.pem); `bootstrap` keys go to the primary's etc/. */
  install(nodes: ClusterNode[], bootstrap: string[]): void {
    for (const n of nodes) {
      mkdirSync(join(n.home, 'etc', 'security'), { recursive: true });
      writeFileSync(join(n.home, 'etc', 'security', PUBLIC_KEY_FILE), this.publicKeyPem);
    }
    writeFileSync(join(nodes[0].home, 'etc', BOOTSTRAP_FILE), bootstrap.join('\n') + '\n');
  }
}

/**
 * Starts a node that may still wait for a license (its ping answers 503 until it has one):
 * spawned as TestCluster does, but ready once liveness answers.
 */
export async function startWaitingNode(node: ClusterNode, env: Record<string, string>): Promise<void> {
  node.output = '';
  const child = spawn(process.execPath, [ARCA_BIN, 'start', '--home', node.home, '--port', String(node.port), '--host', '127.0.0.1', '--workers', '1'], {
    env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_LOGLEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (node.output += d));
  child.stderr!.on('data', (d) => (node.output += d));
  node.child = child;
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${node.id} exited with ${child.exitCode}:\n${node.output}`);
    const res = await fetch(`${node.url}/artifactory/api/v1/system/readiness`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${node.id} did not become ready within 30 s:\n${node.output}`);
}
