import type { FormatModule } from '../format-module.js';
import { genericHandler } from './generic-handler.js';

/** Generic files: served and deployed through the JFrog REST API only. */
export const generic: FormatModule = { name: 'generic', handler: genericHandler };
