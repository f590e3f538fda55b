import type { FormatModule } from './format-module.js';
import { FormatHandlers } from './format-handlers.js';
import { generic } from './generic/index.js';
import { maven } from './maven/index.js';
import { npm } from './npm/index.js';
import { pypi } from './pypi/index.js';
import { oci } from './oci/index.js';
import { go } from './go/index.js';
import { gems } from './gems/index.js';
import { cargo } from './cargo/index.js';
import { helm } from './helm/index.js';
import { debian } from './debian/index.js';
import { rpm } from './rpm/index.js';

/**
 * Every package format, as a typed list (no folder scanning, no loading by name). Adding a
 * format is adding its folder and one line here. Imported only by the composition root and
 * the app; everything else is given what it needs.
 */
export const FORMATS: readonly FormatModule[] = [generic, maven, pypi, npm, oci, go, gems, cargo, helm, debian, rpm];

/** The handlers of every format, generic for package types without one. */
export function formatHandlers(formats: readonly FormatModule[] = FORMATS): FormatHandlers {
  return new FormatHandlers(
    formats.map((f) => f.handler),
    generic.handler,
  );
}
