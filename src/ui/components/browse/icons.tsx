/** Small folder and file icons (inline SVG in the text colour; decorative). */
export function ItemIcon({ folder }: { folder: boolean }) {
  return (
    <svg className={`item-icon ${folder ? 'folder' : 'file'}`} viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      {folder ? (
        <path d="M1.5 3.5h4.2l1.5 1.6h7.3v7.4a.9.9 0 0 1-.9.9H2.4a.9.9 0 0 1-.9-.9z" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
      ) : (
        <path d="M3.5 1.5h6l3 3v10h-9zM9.5 1.5v3h3" fill="none" stroke="currentColor" strokeWidth="1.2" strokeLinejoin="round" />
      )}
    </svg>
  );
}
