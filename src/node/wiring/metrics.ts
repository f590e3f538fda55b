import { stagedBytes } from '../../binstore/direct-io.js';
import { pendingMd5Count } from '../../content/md5-backfill.js';
import { binaryTotals } from '../../db/binaries.js';
import type { Database } from '../../db/database.js';
import { MetricsRegistry, type RegistrySnapshot } from '../../metrics/registry.js';
import type { NodeOptions } from './config.js';

/** The process's metrics registry, with the gauges read at each collection: binaries, the MD5 backlog, the pool, staged bytes. */
export function nodeMetrics(database: Database): MetricsRegistry {
  const metrics = new MetricsRegistry();
  const binCount = metrics.gauge('arca_binaries_count', 'Binaries in the store');
  const binBytes = metrics.gauge('arca_binaries_bytes', 'Bytes of binaries in the store');
  const md5Pending = metrics.gauge('arca_binaries_md5_pending', 'Binaries whose MD5 the background backfill has still to compute');
  const pool = metrics.gauge('arca_db_pool_connections', 'Database pool connections by state');
  const staged = metrics.counter('arca_binstore_staged_bytes_total', 'Bytes of uploads larger than 1 MiB staged on local disk, by io: direct (O_DIRECT) or buffered (page cache)');
  metrics.addCollector(async () => {
    const totals = await binaryTotals(database.db);
    binCount.set(totals.count);
    binBytes.set(totals.bytes);
    md5Pending.set(await pendingMd5Count(database));
    const s = database.poolStats();
    pool.set(s.total - s.idle, { state: 'active' });
    pool.set(s.idle, { state: 'idle' });
    pool.set(s.waiting, { state: 'waiting' });
    pool.set(s.max, { state: 'max' });
    const bytes = stagedBytes();
    staged.set(bytes.direct, { io: 'direct' });
    staged.set(bytes.buffered, { io: 'buffered' });
  });
  return metrics;
}

/** Metrics of every process of the node (workers ask the primary through `collect`), or of this one. */
export function nodeMetricsCollector(metrics: MetricsRegistry, collect: NodeOptions['collectMetrics']): () => Promise<RegistrySnapshot> {
  const local = () => metrics.snapshot();
  return async () => {
    await metrics.collect();
    return collect ? collect(local) : local();
  };
}
