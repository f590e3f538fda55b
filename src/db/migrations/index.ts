import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-cluster-nodes.js';
import * as m0003 from './0003-locks.js';
import * as m0004 from './0004-task-runs.js';
import * as m0005 from './0005-config-files.js';
import * as m0006 from './0006-sessions.js';
import * as m0007 from './0007-remote-cache.js';
import * as m0008 from './0008-licenses.js';
import * as m0009 from './0009-binary-ref-counts.js';
import * as m0010 from './0010-backup-changes.js';
import * as m0011 from './0011-items-tree-index.js';
import * as m0012 from './0012-search-indexes.js';
import * as m0013 from './0013-format-indexes.js';
import * as m0014 from './0014-sqlite-name-trigrams.js';
import * as m0016 from './0016-item-time-indexes.js';
import * as m0017 from './0017-download-stats.js';
import * as m0018 from './0018-archive-entries.js';
import * as m0019 from './0019-builds.js';
import * as m0020 from './0020-trash-items.js';
import * as m0021 from './0021-replications.js';
import * as m0022 from './0022-replication-events.js';
import * as m0023 from './0023-signing-keys.js';

export interface NumberedMigration {
  name: string;
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

/** Every migration, in order. A new one is appended here; names never change once released. */
export const MIGRATIONS: NumberedMigration[] = [
  { name: '0001-initial', up: m0001.up },
  { name: '0002-cluster-nodes', up: m0002.up },
  { name: '0003-locks', up: m0003.up },
  { name: '0004-task-runs', up: m0004.up },
  { name: '0005-config-files', up: m0005.up },
  { name: '0006-sessions', up: m0006.up },
  { name: '0007-remote-cache', up: m0007.up },
  { name: '0008-licenses', up: m0008.up },
  { name: '0009-binary-ref-counts', up: m0009.up },
  { name: '0010-backup-changes', up: m0010.up },
  { name: '0011-items-tree-index', up: m0011.up },
  { name: '0012-search-indexes', up: m0012.up },
  { name: '0013-format-indexes', up: m0013.up },
  { name: '0014-sqlite-name-trigrams', up: m0014.up },
  { name: '0016-item-time-indexes', up: m0016.up },
  { name: '0017-download-stats', up: m0017.up },
  { name: '0018-archive-entries', up: m0018.up },
  { name: '0019-builds', up: m0019.up },
  { name: '0020-trash-items', up: m0020.up },
  { name: '0021-replications', up: m0021.up },
  { name: '0022-replication-events', up: m0022.up },
  { name: '0023-signing-keys', up: m0023.up },
];
