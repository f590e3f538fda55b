import { CronError } from '../cluster/tasks/cron.js';
import { cron, type Schedule } from '../cluster/tasks/schedule.js';
import type { ClusterTask } from '../cluster/tasks/types.js';
import { ConfigError } from '../core/errors.js';
import type { SystemProperties } from '../config/system-properties.js';
import type { Database } from '../db/database.js';
import { sessionCleanupSchedule } from './session-setup.js';
import type { SessionService } from './sessions.js';

export const SESSION_CLEANUP_TASK = 'session-cleanup';

/**
 * The seed's db-session cleanup as a cluster task: deletes the UI sessions whose idle timeout
 * has passed, at `artifactory.db.session.cleanup.cron` (by default a random minute of each
 * hour). Undefined when sessions are not in the database: Redis expires its keys itself and
 * jvm sessions are swept by their own process, so there is nothing for a cluster task to do.
 */
export async function sessionCleanupTask(props: SystemProperties, database: Database, sessions: SessionService): Promise<ClusterTask<void> | undefined> {
  const expression = await sessionCleanupSchedule(props, database);
  if (expression === undefined) return undefined;
  let schedule: Schedule;
  try {
    schedule = cron(expression);
  } catch (err) {
    if (err instanceof CronError) throw new ConfigError(`${props.source}: artifactory.db.session.cleanup.cron: ${err.message}`);
    throw err;
  }
  return {
    name: SESSION_CLEANUP_TASK,
    description: 'Removes UI sessions (artifactory.map.provider.type=db) whose idle timeout has passed',
    schedule,
    async run() {
      const removed = await sessions.cleanup();
      return { counts: { removed } };
    },
  };
}
