import { PackageTypeIcon } from '../icons';
import '../../styles/admin.css';

/** The package type's badge (the shared icon set's), spaced for a table cell beside the repository key. */
export function PackageIcon({ type }: { type: string }) {
  return (
    <span className="pkg-icon">
      <PackageTypeIcon type={type} size={20} />
    </span>
  );
}
