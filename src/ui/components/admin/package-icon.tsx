import '../../styles/admin.css';

/** Two letters per package type; unknown types show their first two letters. */
const LETTERS: Record<string, string> = {
  generic: 'Gn', maven: 'Mv', gradle: 'Gr', npm: 'np', pypi: 'Py', docker: 'Dk', oci: 'Dk', go: 'Go', cargo: 'Cg',
  gems: 'Rb', helm: 'Hm', debian: 'Db', rpm: 'Rp', yum: 'Rp', ivy: 'Iv', sbt: 'Sb', nuget: 'Nu', conan: 'Cn',
};

/**
 * A small badge naming a repository's package type (decorative: the type is also written next
 * to it or in the row). The hue comes from the type, drawn with the theme's colours.
 */
export function PackageIcon({ type }: { type: string }) {
  const t = type.toLowerCase();
  const letters = LETTERS[t] ?? (t.slice(0, 2) || '?');
  return (
    <svg className={`pkg-icon pkg-${t}`} width="22" height="22" viewBox="0 0 22 22" aria-hidden="true" focusable="false">
      <rect x="1" y="1" width="20" height="20" rx="5" />
      <text x="11" y="15" textAnchor="middle">
        {letters}
      </text>
    </svg>
  );
}
