import { useRef, useState, type DragEvent } from 'react';
import { formatSize } from './common';
import { deployFile } from './upload';

interface Item {
  name: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
}

/**
 * Deploys files into `repo/folder` by drag and drop or through a file picker (the keyboard
 * path), one progress bar per file. `onDeployed` runs after each successful file.
 */
export function DeployZone({ repo, folder, onDeployed }: { repo: string; folder: string; onDeployed: (path: string) => void }) {
  const [over, setOver] = useState(false);
  const [items, setItems] = useState<Item[]>([]);
  const input = useRef<HTMLInputElement>(null);

  const update = (index: number, patch: Partial<Item>) => setItems((list) => list.map((it, i) => (i === index ? { ...it, ...patch } : it)));

  const count = useRef(0);
  const deploy = (files: File[]) => {
    if (files.length === 0) return;
    const start = count.current;
    count.current += files.length;
    setItems((list) => [...list, ...files.map((f) => ({ name: f.name, size: f.size, loaded: 0, state: 'uploading' as const }))]);
    files.forEach((file, k) => {
      const index = start + k;
      const path = `${folder ? `${folder.replace(/\/+$/, '')}/` : ''}${file.name}`;
      deployFile(repo, path, file, (p) => update(index, { loaded: p.loaded }))
        .then(() => {
          update(index, { state: 'done', loaded: file.size });
          onDeployed(path);
        })
        .catch((err: Error) => update(index, { state: 'failed', error: err.message }));
    });
  };

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    deploy(Array.from(e.dataTransfer?.files ?? []));
  };

  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      data-testid="deploy-zone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p>
        Drop files here to deploy them to <code>{repo}/{folder}</code>, or{' '}
        <button type="button" onClick={() => input.current?.click()}>
          choose files…
        </button>
      </p>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Files to deploy"
        onChange={(e) => {
          deploy(Array.from(e.target.files ?? []));
          e.target.value = '';
        }}
      />
      {items.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {items.map((it, i) => (
            <li key={i}>
              <label htmlFor={`upload-${i}`} className="inline">
                {it.name} ({formatSize(it.size)}) —{' '}
                {it.state === 'uploading' ? `${it.size ? Math.floor((100 * it.loaded) / it.size) : 0}%` : it.state === 'done' ? 'deployed' : `failed: ${it.error}`}
              </label>
              <progress id={`upload-${i}`} max={it.size || 1} value={it.state === 'failed' ? 0 : it.loaded} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
