import type { FormatModule } from '../format-module.js';
import { mavenHandler } from './maven-handler.js';

/** Maven 2 layout: Maven, Gradle and Ivy clients GET and PUT plain files. */
export const maven: FormatModule = { name: 'maven', handler: mavenHandler };
