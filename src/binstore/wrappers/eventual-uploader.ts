import { open } from 'node:fs/promises';
import { clockTimer, type Clock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import type { BinaryProvider, StagedBinary } from '../binary-provider.js';
import type { EventualQueue } from './eventual-queue.js';
import { isEnoent } from './wrapper-support.js';

const CHUNK = 1 << 20;

export type Outcome =
  | { kind: 'uploaded'; bytes: number }
  | { kind: 'deleted' }
  /** Nothing to do any more (the staged file or the marker went meanwhile). */
  | { kind: 'gone' }
  /** The staged bytes do not match their name; moved to `_corrupt`. */
  | { kind: 'corrupt'; movedTo: string };

export interface UploadOptions {
  /** An upload that makes no progress for this long (on `clock`) is abandoned. */
  stallMs: number;
  /** Aborts the upload (the provider is closing). */
  closing: AbortSignal;
  clock: Clock;
}

/**
 * Pushes one queued binary to the child: streams the staged file into `child.stage`, checks
 * that the child computed the SHA-1 the file is named by, commits, then drops the staged
 * copy. An upload that makes no progress for `stallMs` is aborted (the child sees the abort
 * signal) and fails, to be tried again later.
 */
export async function uploadOne(queue: EventualQueue, child: BinaryProvider, sha1: string, { stallMs, closing, clock }: UploadOptions): Promise<Outcome> {
  let fh;
  try {
    fh = await open(queue.addPath(sha1), 'r');
  } catch (err) {
    if (isEnoent(err)) return { kind: 'gone' };
    throw err;
  }
  const ac = new AbortController();
  const onClose = () => ac.abort();
  closing.addEventListener('abort', onClose, { once: true });
  let disarm = () => {};
  const arm = () => {
    disarm();
    disarm = clockTimer(clock, () => ac.abort(), stallMs);
  };
  const file = fh;
  const source = (async function* () {
    for (let pos = 0; ; ) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await file.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      arm();
      yield buf.subarray(0, bytesRead);
    }
  })();
  try {
    arm();
    const staged = await untilAborted(child.stage(source, { signal: ac.signal }), ac.signal, sha1);
    disarm();
    if (staged.sha1 !== sha1) {
      await staged.discard();
      return { kind: 'corrupt', movedTo: await queue.quarantine(sha1) };
    }
    await staged.commit();
    await queue.finishUpload(sha1);
    return { kind: 'uploaded', bytes: staged.size };
  } finally {
    disarm();
    closing.removeEventListener('abort', onClose);
    await fh.close().catch(() => undefined);
  }
}

/**
 * Waits for a child's stage, but gives up when `signal` fires even if the child ignores it
 * (a hung connection); a stage that completes after that is discarded.
 */
function untilAborted(stage: Promise<StagedBinary>, signal: AbortSignal, sha1: string): Promise<StagedBinary> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(new ArcaError('UNAVAILABLE', `The upload of ${sha1} to the child made no progress and was abandoned`));
      stage.then((late) => late.discard()).catch(() => undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stage.then(
      (staged) => {
        signal.removeEventListener('abort', onAbort);
        resolve(staged);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Applies one queued delete to the child, unless a later add cancelled it. */
export async function deleteOne(queue: EventualQueue, child: BinaryProvider, sha1: string): Promise<Outcome> {
  if (!(await queue.claimDelete(sha1))) return { kind: 'gone' };
  await child.delete(sha1);
  await queue.finishDelete(sha1);
  return { kind: 'deleted' };
}
