import { jfrogRenderer, type ErrorRenderer } from '../../../http/error-renderers.js';

/** apt prints only the status line; scripts get the JFrog body the rest of the REST API gives. */
export const debianRenderer: ErrorRenderer = { ...jfrogRenderer, name: 'debian' };
