import type { ReactNode } from 'react';

/**
 * The UI's icon set: 20×20 line icons drawn with currentColor (so they follow the theme), and a
 * badge per package type. Icons are decorative (aria-hidden); the text beside them names things.
 */
const PATHS: Record<string, ReactNode> = {
  folder: <path d="M2.5 5.5a1 1 0 0 1 1-1h4l1.5 2h7.5a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-13a1 1 0 0 1-1-1z" />,
  file: (
    <>
      <path d="M5 2.5h6.5l3.5 3.5v11.5H5z" />
      <path d="M11.5 2.5V6H15" />
    </>
  ),
  archive: (
    <>
      <path d="M4 3h12v14H4z" />
      <path d="M9 3v2h2v2H9v2h2v2H9" />
    </>
  ),
  repo: (
    <>
      <path d="M3 6l7-3.5L17 6v8l-7 3.5L3 14z" />
      <path d="M3 6l7 3.5L17 6M10 9.5v8" />
    </>
  ),
  search: (
    <>
      <circle cx="8.5" cy="8.5" r="5" />
      <path d="M12.2 12.2L17 17" />
    </>
  ),
  home: <path d="M3 9.5L10 3l7 6.5V17h-4.5v-4.5h-5V17H3z" />,
  sun: (
    <>
      <circle cx="10" cy="10" r="3.5" />
      <path d="M10 1.5v2.5M10 16v2.5M1.5 10H4M16 10h2.5M4 4l1.8 1.8M14.2 14.2L16 16M4 16l1.8-1.8M14.2 5.8L16 4" />
    </>
  ),
  moon: <path d="M15.5 12.5A6.5 6.5 0 0 1 7.5 4.5a6.5 6.5 0 1 0 8 8z" />,
  menu: <path d="M3 5h14M3 10h14M3 15h14" />,
  user: (
    <>
      <circle cx="10" cy="7" r="3.5" />
      <path d="M3.5 17.5a6.5 6.5 0 0 1 13 0" />
    </>
  ),
  download: <path d="M10 3v10M5.5 8.5L10 13l4.5-4.5M3.5 16.5h13" />,
  upload: <path d="M10 14V4M5.5 8.5L10 4l4.5 4.5M3.5 16.5h13" />,
  trash: <path d="M4 5.5h12M8 5.5V3.5h4v2M5.5 5.5l1 11h7l1-11" />,
  build: <path d="M12.5 3.5l4 4-2 2-4-4zM10.5 5.5L3 13v4h4l7.5-7.5" />,
  server: (
    <>
      <rect x="3" y="3.5" width="14" height="5" rx="1" />
      <rect x="3" y="11.5" width="14" height="5" rx="1" />
      <path d="M6 6h.01M6 14h.01" />
    </>
  ),
  check: <path d="M4 10.5l4 4 8-9" />,
  group: (
    <>
      <circle cx="7" cy="7.5" r="2.8" />
      <circle cx="14" cy="8" r="2.3" />
      <path d="M2 16.5a5 5 0 0 1 10 0M12 12.5a4 4 0 0 1 6 4" />
    </>
  ),
  lock: (
    <>
      <rect x="4" y="9" width="12" height="8.5" rx="1.2" />
      <path d="M6.5 9V6.5a3.5 3.5 0 0 1 7 0V9" />
    </>
  ),
  settings: (
    <>
      <circle cx="10" cy="10" r="2.6" />
      <path d="M10 2.5v2.2M10 15.3v2.2M2.5 10h2.2M15.3 10h2.2M4.7 4.7l1.6 1.6M13.7 13.7l1.6 1.6M4.7 15.3l1.6-1.6M13.7 6.3l1.6-1.6" />
    </>
  ),
  key: (
    <>
      <circle cx="6.5" cy="13.5" r="3.5" />
      <path d="M9 11l8-8M14 6l2 2M12 8l1.5 1.5" />
    </>
  ),
  token: (
    <>
      <rect x="2.5" y="5.5" width="15" height="9" rx="1.5" />
      <path d="M6 10h.01M9.5 10h.01M13 10h.01" />
    </>
  ),
  warning: <path d="M10 3l8 14H2zM10 8v4M10 14.5v.01" />,
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 18, className }: { name: IconName; size?: number; className?: string }) {
  return (
    <svg className={`icon ${className ?? ''}`.trim()} width={size} height={size} viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {PATHS[name]}
    </svg>
  );
}

/** The badge of each package type: two letters on the format's colour (white text, 4.5:1 or better). */
const TYPES: Record<string, [string, string]> = {
  generic: ['G', '#4a5568'],
  maven: ['M', '#9c2a00'],
  gradle: ['Gr', '#02535c'],
  npm: ['n', '#b5121b'],
  pypi: ['Py', '#2b5b84'],
  docker: ['D', '#0b5cad'],
  oci: ['D', '#0b5cad'],
  go: ['Go', '#00758f'],
  cargo: ['Rs', '#8a3b12'],
  gems: ['Rb', '#a3162b'],
  helm: ['H', '#0f1689'],
  debian: ['De', '#a80030'],
  rpm: ['R', '#6b2d8a'],
};

/** A small square badge for a package type, decorative (pair it with the type's name). */
export function PackageTypeIcon({ type, size = 20 }: { type: string; size?: number }) {
  const [letters, colour] = Object.hasOwn(TYPES, type.toLowerCase()) ? TYPES[type.toLowerCase()]! : [type.slice(0, 1).toUpperCase(), '#4a5568'];
  return (
    <svg className="type-icon" width={size} height={size} viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <rect width="20" height="20" rx="4" fill={colour} />
      <text x="10" y="14" textAnchor="middle" fontSize={letters.length > 1 ? 9 : 11} fontWeight="700" fill="#fff" fontFamily="system-ui, sans-serif">
        {letters}
      </text>
    </svg>
  );
}

/** Arca's mark: an ark-like chest seen from the front, in the accent colour. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg className="logo" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect x="1" y="1" width="30" height="30" rx="7" fill="var(--accent)" />
      <path d="M7 13h18l-2.5 10h-13z" fill="none" stroke="var(--accent-text)" strokeWidth="2.2" strokeLinejoin="round" />
      <path d="M10 13l6-5 6 5" fill="none" stroke="var(--accent-text)" strokeWidth="2.2" strokeLinejoin="round" />
      <path d="M16 13v10" stroke="var(--accent-text)" strokeWidth="2" />
    </svg>
  );
}
