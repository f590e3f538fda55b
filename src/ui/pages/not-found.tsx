import { Page } from '../components/common';
import { Link } from '../router';
import type { PageProps } from '../routes';

export function NotFoundPage({ route }: PageProps) {
  return (
    <Page title="Page not found">
      <p>
        There is no page at <code>{route.path}</code>. <Link to="/browse">Browse the repositories</Link>.
      </p>
    </Page>
  );
}
