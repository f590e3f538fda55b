import { useEffect, useState } from 'react';
import { api } from '../api';

let cached: Promise<string> | undefined;

/** The custom URL base from the configuration XML, or '' when none is set. */
export function urlBaseFromXml(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  return doc.getElementsByTagName('urlBase')[0]?.textContent?.trim() ?? '';
}

/**
 * The URL clients should use (`https://host/artifactory`): the configured custom URL base
 * (`/api/system/configuration`, admins only) or else this page's own origin.
 */
export function loadBaseUrl(refresh = false): Promise<string> {
  if (!cached || refresh) {
    const own = `${window.location.origin}/artifactory`;
    cached = api<string>('/artifactory/api/system/configuration')
      .then((xml) => urlBaseFromXml(String(xml)).replace(/\/+$/, '') || own)
      .catch(() => own);
  }
  return cached;
}

/** After the General page saved a base: use it at once (another node may still hold the old settings for a moment). */
export function rememberBaseUrl(urlBase: string): void {
  cached = Promise.resolve(urlBase.replace(/\/+$/, '') || `${window.location.origin}/artifactory`);
}

export function useBaseUrl(): string {
  const [base, setBase] = useState(`${window.location.origin}/artifactory`);
  useEffect(() => {
    let live = true;
    void loadBaseUrl().then((b) => live && setBase(b));
    return () => {
      live = false;
    };
  }, []);
  return base;
}
