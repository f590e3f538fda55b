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

let listing: Promise<Array<{ key: string; url?: string }>> | undefined;

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
    listing ??= api<Array<{ key: string; url?: string }>>('/artifactory/api/repositories').catch(() => []);
    void listing.then((list) => {
      const found = baseOfRepoUrl(key, list.find((r) => r.key === key)?.url);
      if (live) setBase(found ?? own);
    });
    return () => {
      live = false;
    };
  }, [key, known, own]);
  return base;
}
