import type { ContentStore } from '../content/content-store.js';
import type { Database } from '../db/database.js';

/** The seed's ping checks: the database answers and the binary store is usable. */
export class NodeHealth {
  constructor(
    private readonly database: Database,
    private readonly content: ContentStore,
  ) {}

  /** What is wrong, in the words the ping answers with; undefined when the node is healthy. */
  async problem(): Promise<string | undefined> {
    try {
      await this.database.ping();
    } catch (err) {
      return `Database access failed: ${(err as Error).message}`;
    }
    try {
      await this.content.provider.check();
    } catch (err) {
      return `File system access failed: ${(err as Error).message}`;
    }
    return undefined;
  }
}
