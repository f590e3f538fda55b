import { Page } from '../components/common';
import { Link, type PageProps } from '../router';

export function NotFoundPage({ route }: PageProps) {
  return (
    <Page title="Page not found">
      <p>
        There is no page at <code>{route.path}</code>. <Link to="/browse">Browse the repositories</Link>.
      </p>
    </Page>
  );
}
