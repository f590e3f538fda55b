import { artifactUrl, errorMessage } from '../api';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * `key=value;key2=v1,v2` (what a user types) as matrix parameters for a deploy URL
 * (`;key=value;key2=v1,v2`, each key and value encoded); '' for nothing. Throws on a part
 * without a key.
 */
export function matrixOf(text: string): string {
  let out = '';
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!key || eq < 0) throw new Error(`Property '${part.trim()}' needs the form key=value`);
    const values = part
      .slice(eq + 1)
      .split(',')
      .map((v) => encodeURIComponent(v.trim()));
    out += `;${encodeURIComponent(key)}=${values.join(',')}`;
  }
  return out;
}

/**
 * Deploys one file with `PUT /artifactory/{repo}/{path}` through XMLHttpRequest, whose upload
 * events (unlike fetch's) report progress. Resolves with the ItemCreated JSON; rejects with the
 * server's message. `signal` aborts the upload.
 */
export function deployFile(repo: string, path: string, file: Blob, onProgress: (p: UploadProgress) => void, signal?: AbortSignal, matrix = ''): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${artifactUrl(repo, path)}${matrix}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-requested-with', 'XMLHttpRequest');
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // a text answer
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        resolve(body);
      } else {
        if (xhr.status === 401) window.dispatchEvent(new Event('arca:unauthorized'));
        reject(new Error(errorMessage(body, `${xhr.status} ${xhr.statusText}`)));
      }
    };
    xhr.onerror = () => reject(new Error('The upload failed (network error)'));
    xhr.onabort = () => reject(new Error('The upload was cancelled'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
