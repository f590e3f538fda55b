import { useEffect, useRef, useState, type DragEvent } from 'react';
import { detectMaven, mavenPath } from './browse/maven-detect';
import { Field, formatSize } from './common';
import { deployFile, matrixOf } from './upload';

interface Item {
  name: string;
  path: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
  coordinates?: string;
}

/**
 * Deploys files into `repo` by drag and drop or through a file picker (the keyboard path), one
 * progress bar per file: to the target path (the folder shown, or another one typed), with
 * properties (`key=value;key2=v1,v2`, sent as matrix parameters), and in a Maven repository to
 * the path of the coordinates read from a POM or a jar's `pom.properties` when asked.
 * `onDeployed` runs after each successful file.
 */
export function DeployZone({ repo, folder, packageType = 'generic', onDeployed }: { repo: string; folder: string; packageType?: string; onDeployed: (path: string) => void }) {
  const [over, setOver] = useState(false);
  const [items, setItems] = useState<Item[]>([]);
  const [target, setTarget] = useState(folder);
  const [props, setProps] = useState('');
  const maven = ['maven', 'gradle', 'ivy', 'sbt'].includes(packageType.toLowerCase());
  const [useCoordinates, setUseCoordinates] = useState(maven);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setTarget(folder), [folder]);

  const update = (index: number, patch: Partial<Item>) => setItems((list) => list.map((it, i) => (i === index ? { ...it, ...patch } : it)));

  const count = useRef(0);
  const deploy = (files: File[]) => {
    if (files.length === 0) return;
    let matrix: string;
    try {
      matrix = matrixOf(props);
    } catch (err) {
      setItems((list) => [...list, ...files.map((f) => ({ name: f.name, path: '', size: f.size, loaded: 0, state: 'failed' as const, error: (err as Error).message }))]);
      count.current += files.length;
      return;
    }
    const start = count.current;
    count.current += files.length;
    const dir = target.trim().replace(/^\/+|\/+$/g, '');
    setItems((list) => [...list, ...files.map((f) => ({ name: f.name, path: dir ? `${dir}/${f.name}` : f.name, size: f.size, loaded: 0, state: 'uploading' as const }))]);
    files.forEach(async (file, k) => {
      const index = start + k;
      let path = dir ? `${dir}/${file.name}` : file.name;
      if (maven && useCoordinates) {
        const c = await detectMaven(file);
        if (c) {
          path = mavenPath(c);
          update(index, { path, coordinates: `${c.groupId}:${c.artifactId}:${c.version}${c.classifier ? `:${c.classifier}` : ''}` });
        }
      }
      deployFile(repo, path, file, (p) => update(index, { loaded: p.loaded }), undefined, matrix)
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
    <div className="deploy">
      <div className="row deploy-options">
        <Field id="deploy-target" label="Target folder" hint="Files go into this folder of the repository.">
          <input id="deploy-target" value={target} onChange={(e) => setTarget(e.target.value)} autoComplete="off" aria-describedby="deploy-target-hint" />
        </Field>
        <Field id="deploy-props" label="Properties" hint="key=value; several: a=1;b=x,y">
          <input id="deploy-props" value={props} onChange={(e) => setProps(e.target.value)} autoComplete="off" aria-describedby="deploy-props-hint" placeholder="key=value;key2=v1,v2" />
        </Field>
      </div>
      {maven && (
        <label className="inline check">
          <input type="checkbox" checked={useCoordinates} onChange={(e) => setUseCoordinates(e.target.checked)} /> Deploy POMs and jars to the path of their Maven coordinates (read from the POM or the jar's
          pom.properties)
        </label>
      )}
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
          Drop files here to deploy them to{' '}
          <code>
            {repo}/{target.replace(/^\/+/, '')}
          </code>
          , or{' '}
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
              <li key={i} data-state={it.state}>
                <label htmlFor={`upload-${i}`} className="inline">
                  {it.name} ({formatSize(it.size)}){it.path && it.path !== it.name ? ` → ${it.path}` : ''}
                  {it.coordinates ? ` [${it.coordinates}]` : ''} —{' '}
                  {it.state === 'uploading' ? `${it.size ? Math.floor((100 * it.loaded) / it.size) : 0}%` : it.state === 'done' ? 'deployed' : `failed: ${it.error}`}
                </label>
                <progress id={`upload-${i}`} max={it.size || 1} value={it.state === 'failed' ? 0 : it.loaded} />
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
