import { jfrogRenderer, type ErrorRenderer } from '../../../http/error-renderers.js';

/** dnf prints the status line only; scripts get the JFrog body, as from `/artifactory/{repo}/`. */
export const rpmRenderer: ErrorRenderer = jfrogRenderer;
