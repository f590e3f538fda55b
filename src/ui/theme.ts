/**
 * Light or dark, as `data-theme` on <html> (styles.css has one dark palette, under
 * `[data-theme='dark']`): the header's toggle stores a choice in localStorage; with no choice the
 * scheme follows the system's `prefers-color-scheme`, and changes when the system's does.
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

const SYSTEM_DARK = '(prefers-color-scheme: dark)';

function systemTheme(): Theme {
  return window.matchMedia?.(SYSTEM_DARK).matches ? 'dark' : 'light';
}

/** The scheme shown now: the stored choice, else the system's. */
export function currentTheme(): Theme {
  return storedTheme() ?? systemTheme();
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

/** Shows the current scheme, and follows the system's changes while no choice is stored. Call once, before the first paint. */
export function startTheme(): void {
  applyTheme(currentTheme());
  window.matchMedia?.(SYSTEM_DARK).addEventListener('change', () => {
    if (!storedTheme()) applyTheme(systemTheme());
  });
}

export function chooseTheme(theme: Theme): void {
  try {
    window.localStorage.setItem(KEY, theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  applyTheme(theme);
}
