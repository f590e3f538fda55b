import { statfs } from 'node:fs/promises';
import { sql } from 'kysely';
import { isoDate, type Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { binaryTotals } from '../db/binaries.js';
import type { RepositoryService } from './repositories.js';

/**
 * `GET /api/storageinfo` and `POST /api/storageinfo/calculate` (issue 15, item 8), in the
 * seed's shape (the JFrog CLI's `StorageInfo`): binaries from the maintained counters, the file
 * store's disk, and per repository its folders, files and bytes.
 *
 * The per-repository counts read every item once (one grouped scan), so, as in the seed, they
 * are calculated in the background and served from the last calculation: `calculate` starts
 * one (202), a GET serves what is there, starting a calculation when the last one is older
 * than REFRESH_MS, and waits for the very first one. One calculation runs at a time per node.
 */

const REFRESH_MS = 60 * 60_000;

interface RepoCounts {
  folders: number;
  files: number;
  bytes: number;
}

interface Calculation {
  at: number;
  repos: Map<string, RepoCounts>;
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** `3.48 GB`, as the seed writes sizes (powers of 1,024). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${UNITS[u]}`;
}

const count = (n: number) => n.toLocaleString('en-US');
const percent = (part: number, whole: number) => (whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(2)}%`);

export class StorageInfoService {
  private last: Calculation | undefined;
  private running: Promise<Calculation> | undefined;

  constructor(
    private readonly database: Database,
    private readonly repos: Pick<RepositoryService, 'list'>,
    private readonly clock: Clock,
    private readonly store: { type: string; dir: string },
  ) {}

  /** Starts a calculation unless one runs; resolves when it is done. */
  calculate(): Promise<Calculation> {
    this.running ??= this.count()
      .then((c) => {
        this.last = c;
        return c;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async count(): Promise<Calculation> {
    const at = this.clock.now();
    const rows = await this.database.db
      .selectFrom('items')
      .select(['repo', 'type', sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('bytes')])
      .groupBy(['repo', 'type'])
      .execute();
    const repos = new Map<string, RepoCounts>();
    for (const r of rows) {
      const c = repos.get(r.repo) ?? { folders: 0, files: 0, bytes: 0 };
      if (r.type === 'folder') c.folders += Number(r.n);
      else {
        c.files += Number(r.n);
        c.bytes += Number(r.bytes);
      }
      repos.set(r.repo, c);
    }
    return { at, repos };
  }

  async summary() {
    let calc = this.last;
    if (!calc) calc = await this.calculate();
    else if (this.clock.now() - calc.at > REFRESH_MS) void this.calculate().catch(() => undefined);
    const totals = await binaryTotals(this.database.db);
    let artifactsSize = 0;
    let artifacts = 0;
    let folders = 0;
    const counted = (await this.repos.list()).map((r) => {
      const c = calc.repos.get(r.key) ?? { folders: 0, files: 0, bytes: 0 };
      artifactsSize += c.bytes;
      artifacts += c.files;
      folders += c.folders;
      return { r, c };
    });
    const items = artifacts + folders;
    const list: Record<string, unknown>[] = counted.map(({ r, c }) => ({
      repoKey: r.key,
      repoType: r.rclass.toUpperCase(),
      foldersCount: c.folders,
      filesCount: c.files,
      usedSpace: humanSize(c.bytes),
      usedSpaceInBytes: c.bytes,
      itemsCount: c.files + c.folders,
      packageType: r.packageType,
      percentage: percent(c.bytes, artifactsSize),
    }));
    list.push({ repoKey: 'TOTAL', repoType: 'NA', foldersCount: folders, filesCount: artifacts, usedSpace: humanSize(artifactsSize), usedSpaceInBytes: artifactsSize, itemsCount: items });
    const disk = await statfs(this.store.dir).catch(() => undefined);
    const total = disk ? disk.blocks * disk.bsize : 0;
    const free = disk ? disk.bavail * disk.bsize : 0;
    return {
      binariesSummary: {
        binariesCount: count(totals.count),
        binariesSize: humanSize(totals.bytes),
        artifactsSize: humanSize(artifactsSize),
        optimization: artifactsSize === 0 ? '0%' : percent(totals.bytes, artifactsSize),
        itemsCount: count(items),
        artifactsCount: count(artifacts),
      },
      fileStoreSummary: {
        storageType: this.store.type,
        storageDirectory: this.store.dir,
        totalSpace: humanSize(total),
        usedSpace: `${humanSize(total - free)} (${percent(total - free, total)})`,
        freeSpace: `${humanSize(free)} (${percent(free, total)})`,
      },
      repositoriesSummaryList: list,
      calculatedAt: isoDate(calc.at),
    };
  }
}
