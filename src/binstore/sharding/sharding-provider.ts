import { ArcaError, isArcaError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { BinaryProvider, ByteRange, MaintenanceResult, StagedBinary, StageOptions } from '../binary-provider.js';
import { intParam, paramError } from '../chain/params.js';
import type { BuildContext, ProviderNode, ProviderType } from '../chain/types.js';
import { filterShards, freeSpaceOf, isAvailable, isWritable, orderShards, parseBehavior, type Behavior, type Shard } from './behaviors.js';
import { balanceShards, scrubShards, type MaintenanceHost } from './maintenance.js';
import { describe, replicate, type ShardFailure } from './replication.js';
import type { Readable } from 'node:stream';

/** How long a free-space sample is used before the shard is asked again. */
const SPACE_SAMPLE_MS = 10_000;
/** Binaries whose missing copies are remembered between balancing runs (the scan finds the rest). */
const MAX_PENDING = 100_000;

type Log = BuildContext['log'];
const SILENT: Log = { info() {}, warn() {}, error() {} };

export interface ShardingOptions {
  type: string;
  id: string;
  /** The shards as they are now (a sharding-cluster's change as peers come and go). */
  shards: () => Promise<Shard[]>;
  redundancy: number;
  /** Copies that must exist before a write succeeds; 0 = all `redundancy` copies. */
  lenientLimit: number;
  readBehavior: Behavior;
  writeBehavior: Behavior;
  clock?: Clock;
  log?: Log;
  /** Told when a shard failed an operation (a sharding-cluster refreshes its peers). */
  onShardFailure?: (shard: Shard, err: unknown) => void;
  /** Called when a write finds too few shards: a sharding-cluster looks for peers that joined since. */
  refreshShards?: () => Promise<void>;
  /**
   * The shards stage in front of one shared store (the cluster-* cloud templates: eventual-cluster
   * → retry → bucket): every shard then reports every binary already in the bucket, so a count
   * above `redundancy` is not surplus, and deleting "a copy" would delete the bucket's object.
   * Balancing then only adds missing staged copies and never removes any.
   */
  sharedBackend?: boolean;
}

/**
 * The seed's `sharding` provider: binaries spread over sub-providers with `redundancy`
 * copies each. A write is staged on the first writable shard of the write behaviour and,
 * on commit, copied to further shards until `lenientLimit` copies exist (all `redundancy`
 * copies when it is 0); the remaining copies are made in the background and remembered for
 * balancing. Reads take the first shard (read behaviour) that has the binary.
 */
export class ShardingProvider implements BinaryProvider {
  readonly type: string;
  private readTurn = 0;
  private writeTurn = 0;
  private readonly space = new Map<string, { at: number; value: { free: number; total: number } | undefined }>();
  /** Binaries written with fewer than `redundancy` copies, by SHA-1 (value: size). */
  readonly pending = new Map<string, number>();
  private readonly background = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly log: Log;

  constructor(readonly opts: ShardingOptions) {
    this.type = opts.type;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? SILENT;
  }

  /** Copies a write needs before it succeeds. */
  get required(): number {
    const { redundancy, lenientLimit } = this.opts;
    return lenientLimit === 0 ? redundancy : Math.min(lenientLimit, redundancy);
  }

  private async sampleSpace(shards: Shard[]): Promise<Map<string, { free: number; total: number } | undefined>> {
    const now = this.clock.now();
    await Promise.all(
      shards.map(async (s) => {
        const known = this.space.get(s.id);
        if (!known || now - known.at > SPACE_SAMPLE_MS) this.space.set(s.id, { at: now, value: await freeSpaceOf(s) });
      }),
    );
    return new Map(shards.map((s) => [s.id, this.space.get(s.id)?.value]));
  }

  private async order(behavior: Behavior, shards: Shard[], turn: number): Promise<Shard[]> {
    const space = behavior === 'freeSpace' || behavior === 'percentageFreeSpace' ? await this.sampleSpace(shards) : undefined;
    return orderShards(behavior, shards, turn, space);
  }

  /** Shards in write order (writable ones only). */
  async writeOrder(): Promise<Shard[]> {
    const shards = await this.opts.shards();
    return filterShards(await this.order(this.opts.writeBehavior, shards, this.writeTurn++), isWritable);
  }

  private async readOrder(): Promise<{ order: Shard[]; skipped: string[] }> {
    const shards = await this.opts.shards();
    const all = await this.order(this.opts.readBehavior, shards, this.readTurn++);
    const order = await filterShards(all, isAvailable);
    return { order, skipped: all.filter((s) => !order.includes(s)).map((s) => s.id) };
  }

  private failed(shard: Shard, err: unknown): void {
    this.opts.onShardFailure?.(shard, err);
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    const order = await this.writeOrder();
    const primary = order[0];
    if (!primary) throw new ArcaError('UNAVAILABLE', `Sharding provider '${this.opts.id}' has no writable shard`);
    const staged = await primary.provider.stage(source, options);
    return {
      size: staged.size,
      md5: staged.md5,
      sha1: staged.sha1,
      sha256: staged.sha256,
      commit: () => this.commitStaged(staged, primary, order.slice(1)),
      discard: () => staged.discard(),
    };
  }

  private async commitStaged(staged: StagedBinary, primary: Shard, others: Shard[]): Promise<void> {
    await staged.commit();
    const { sha1, size } = staged;
    const holders = [primary];
    const failures: ShardFailure[] = [];
    await this.fill(sha1, size, holders, this.required, others, failures);
    if (holders.length < this.required) {
      const { redundancy, lenientLimit } = this.opts;
      throw new ArcaError(
        'UNAVAILABLE',
        `Binary ${sha1} was written to ${holders.length} of the ${this.required} copies required ` +
          `(sharding provider '${this.opts.id}': redundancy ${redundancy}, lenientLimit ${lenientLimit})` +
          (failures.length ? `; ${failures.map((f) => `${f.shard}: ${f.error}`).join('; ')}` : '; no other writable shard is available') +
          (lenientLimit === 0 ? '. With lenientLimit 0 every copy is required: set lenientLimit to 1 to accept writes while a shard or node is down' : ''),
        { written: holders.length, required: this.required },
      );
    }
    if (holders.length < this.opts.redundancy) {
      if (this.pending.size < MAX_PENDING) this.pending.set(sha1, size);
      this.inBackground(async () => {
        const more: ShardFailure[] = [];
        await this.fill(sha1, size, holders, this.opts.redundancy, others, more);
        if (holders.length >= this.opts.redundancy) this.pending.delete(sha1);
        else this.log.warn({ sha1, copies: holders.length, redundancy: this.opts.redundancy, failures: more }, 'binary kept with fewer copies than the redundancy; balancing will complete it');
      });
    }
  }

  /**
   * Copies to `candidates` until `holders` has `want` shards; when they run out, the shard
   * list is refreshed once (a peer may have joined) and the new write order is tried.
   */
  private async fill(sha1: string, size: number, holders: Shard[], want: number, candidates: Shard[], failures: ShardFailure[]): Promise<void> {
    const tried = [...candidates];
    await replicate(sha1, size, holders, want, candidates, failures);
    if (holders.length < want && this.opts.refreshShards) {
      await this.opts.refreshShards();
      const fresh = (await this.writeOrder()).filter((s) => !tried.some((t) => t.id === s.id));
      tried.push(...fresh);
      await replicate(sha1, size, holders, want, fresh, failures);
    }
    for (const f of failures) {
      const shard = tried.find((s) => s.id === f.shard);
      if (shard) this.failed(shard, f.error);
    }
  }

  private inBackground(work: () => Promise<void>): void {
    const p = work()
      .catch((err) => this.log.warn({ err: describe(err) }, 'background copy failed'))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves when every background copy started so far has finished. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private async firstHit<T>(sha1: string, what: string, op: (s: Shard) => Promise<T>): Promise<T> {
    const { order, skipped } = await this.readOrder();
    const errors: string[] = skipped.map((id) => `${id}: unavailable`);
    for (const shard of order) {
      try {
        return await op(shard);
      } catch (err) {
        if (isArcaError(err, 'ITEM_NOT_FOUND')) continue;
        if (isArcaError(err, 'BAD_REQUEST')) throw err;
        errors.push(`${shard.id}: ${describe(err)}`);
        this.failed(shard, err);
      }
    }
    if (errors.length > 0) {
      throw new ArcaError('UNAVAILABLE', `Binary ${sha1} could not be ${what}: no reachable shard has it and some shards failed (${errors.join('; ')})`);
    }
    throw new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from every shard of '${this.opts.id}'`);
  }

  read(sha1: string, range?: ByteRange): Promise<Readable> {
    return this.firstHit(sha1, 'read', (s) => s.provider.read(sha1, range));
  }

  readBuffer(sha1: string): Promise<Buffer> {
    return this.firstHit(sha1, 'read', (s) => s.provider.readBuffer(sha1));
  }

  async size(sha1: string): Promise<number | undefined> {
    const { order } = await this.readOrder();
    for (const shard of order) {
      try {
        const n = await shard.provider.size(sha1);
        if (n !== undefined) return n;
      } catch (err) {
        this.failed(shard, err);
      }
    }
    return undefined;
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  /** Deletes every copy on every reachable shard; an unreachable shard's copy becomes an orphan for GC. */
  async delete(sha1: string): Promise<boolean> {
    const shards = await filterShards(await this.opts.shards(), isAvailable);
    const results = await Promise.allSettled(shards.map((s) => s.provider.delete(sha1)));
    let removed = false;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') removed ||= r.value;
      else {
        this.log.warn({ sha1, shard: shards[i].id, err: describe(r.reason) }, 'could not delete a copy; it stays until garbage collection finds it again');
        this.failed(shards[i], r.reason);
      }
    });
    this.pending.delete(sha1);
    return removed;
  }

  /** The union of every reachable shard's binaries, each SHA-1 once. */
  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    const seen = new Set<string>();
    for (const shard of await filterShards(await this.opts.shards(), isAvailable)) {
      try {
        for await (const entry of shard.provider.list()) {
          if (seen.has(entry.sha1)) continue;
          seen.add(entry.sha1);
          yield entry;
        }
      } catch (err) {
        this.log.warn({ shard: shard.id, err: describe(err) }, 'could not list a shard');
        this.failed(shard, err);
      }
    }
  }

  /** Every writable shard on this node's own disks must take a write (remote peers are not this node's health). */
  async check(): Promise<void> {
    const local = (await this.opts.shards()).filter((s) => s.local && s.writeEnabled);
    if (local.length === 0) throw new ArcaError('UNAVAILABLE', `Sharding provider '${this.opts.id}' has no writable local shard`);
    await Promise.all(local.map((s) => s.provider.check()));
  }

  /** Removes stale staging files of every shard that keeps some (called by GC). */
  async cleanTemp(olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const shard of await this.opts.shards()) {
      const clean = (shard.provider as { cleanTemp?: (ms: number) => Promise<number> }).cleanTemp;
      if (clean) removed += await clean.call(shard.provider, olderThanMs).catch(() => 0);
    }
    return removed;
  }

  /**
   * Restores redundancy: every binary with fewer than `redundancy` copies on reachable shards
   * is copied to more shards; surplus copies are removed only when every shard answered and
   * the copies kept are confirmed.
   */
  balance(signal?: AbortSignal): Promise<MaintenanceResult> {
    return balanceShards(this.host(), signal);
  }

  /**
   * Hashes every copy on every reachable shard; a corrupt copy is replaced from a good one,
   * missing copies are added up to `redundancy`. A binary without any good copy is reported
   * as unrecoverable and left as it is.
   */
  scrub(signal?: AbortSignal): Promise<MaintenanceResult> {
    return scrubShards(this.host(), signal);
  }

  private host(): MaintenanceHost {
    return {
      redundancy: this.opts.redundancy,
      writeBehavior: this.opts.writeBehavior,
      shards: this.opts.shards,
      writeOrder: () => this.writeOrder(),
      pending: this.pending,
      log: this.log,
      keepSurplus: this.opts.sharedBackend === true,
    };
  }

  async close(): Promise<void> {
    await this.settled();
    for (const shard of await this.opts.shards()) await shard.provider.close?.();
  }
}

export function behaviorParam(node: ProviderNode, name: string, fallback: Behavior): Behavior {
  try {
    return parseBehavior(node.params[name], name, fallback);
  } catch (err) {
    throw paramError(node, describe(err));
  }
}

export function shardOf(node: ProviderNode, provider: BinaryProvider, local: boolean, id = node.id): Shard {
  return {
    id,
    provider,
    zone: (node.params.zone ?? '').trim(),
    writeEnabled: (node.params.writeEnabled ?? 'true').trim().toLowerCase() !== 'false',
    local,
  };
}

/** `<provider type="sharding">` over its `<sub-provider>` elements (all on this node's disks). */
export const shardingProviderType: ProviderType = {
  type: 'sharding',
  async create({ node, ctx, subs }) {
    if (subs.length === 0) throw paramError(node, 'at least one <sub-provider> is required');
    const shards = subs.map((p, i) => shardOf(node.subProviders[i] ?? node, p, true, node.subProviders[i]?.id ?? `${node.id}-${i + 1}`));
    const all = async () => shards;
    return new ShardingProvider({
      type: 'sharding',
      id: node.id,
      shards: all,
      redundancy: intParam(node, 'redundancy', 1, 1),
      lenientLimit: intParam(node, 'lenientLimit', 1, 0),
      readBehavior: behaviorParam(node, 'readBehavior', 'roundRobin'),
      writeBehavior: behaviorParam(node, 'writeBehavior', 'roundRobin'),
      clock: ctx.clock,
      log: ctx.log,
    });
  },
};
