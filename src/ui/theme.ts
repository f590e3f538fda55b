/**
 * Light or dark: the header's toggle stores the choice in localStorage and sets `data-theme` on
 * <html>; with no choice the scheme follows the system (prefers-color-scheme, styles.css).
 */
export type Theme = 'light' | 'dark';
const KEY = 'arca-theme';

export function storedTheme(): Theme | undefined {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The scheme shown now: the stored choice, else the system's. */
export function currentTheme(): Theme {
  return storedTheme() ?? (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

export function applyTheme(theme: Theme | undefined): void {
  const root = document.documentElement;
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
}

export function chooseTheme(theme: Theme): void {
  try {
    window.localStorage.setItem(KEY, theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  applyTheme(theme);
}
