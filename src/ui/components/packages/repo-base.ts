import { useEffect, useState } from 'react';
import { api } from '../../api';

/**
 * The URL base clients should use (`https://host/artifactory`), for every user: the repository
 * list gives each repository's `url` on the server's base (the custom URL base when one is set),
 * while the configuration that holds the base itself is for administrators only.
 */
export function baseOfRepoUrl(key: string, url: string | undefined): string | undefined {
  const tail = `/${key}`;
  return url && url.endsWith(tail) ? url.slice(0, -tail.length) : undefined;
}

type Listed = { key: string; type?: string; url?: string };
let listing: Promise<Listed[]> | undefined;
const fetchList = () => api<Listed[]>('/artifactory/api/repositories').catch(() => [] as Listed[]);
/** The repository list, read once per page load and again when `key` is not in it (a repository created since). */
async function list(key: string): Promise<Listed[]> {
  listing ??= fetchList();
  const l = await listing;
  if (l.some((r) => r.key === key)) return l;
  listing = fetchList();
  return listing;
}

/** LOCAL, REMOTE or VIRTUAL (undefined until known, or for a repository not listed). */
export function useRepoClass(key: string): string | undefined {
  const [cls, setCls] = useState<string>();
  useEffect(() => {
    let live = true;
    void list(key).then((l) => live && setCls(l.find((r) => r.key === key)?.type?.toUpperCase()));
    return () => {
      live = false;
    };
  }, [key]);
  return cls;
}

export function useRepoBase(key: string, url?: string): string {
  const own = `${window.location.origin}/artifactory`;
  const known = baseOfRepoUrl(key, url);
  const [base, setBase] = useState(known ?? own);
  useEffect(() => {
    if (known) {
      setBase(known);
      return;
    }
    let live = true;
    void list(key).then((l) => {
      const found = baseOfRepoUrl(key, l.find((r) => r.key === key)?.url);
      if (live) setBase(found ?? own);
    });
    return () => {
      live = false;
    };
  }, [key, known, own]);
  return base;
}
