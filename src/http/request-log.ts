import pino from 'pino';

export interface RequestLogEntry {
  ip: string;
  user: string | undefined;
  method: string;
  url: string;
  status: number;
  ms: number;
  bytes: number;
}

/** How often the buffer is written while lines arrive (the file is at most about this far behind). */
export const REQUEST_LOG_FLUSH_MS = 250;
/** After this long without a line, the periodic flush stops until the next line. */
const IDLE_MS = 2000;

/**
 * `logs/request.log`: one JSON line per request, written through a buffered asynchronous
 * destination (mode 0600). Lines are built by hand; a general-purpose logger costs several
 * per cent of a small download. The buffer is written when it holds 8 KiB, and every
 * `REQUEST_LOG_FLUSH_MS` while lines arrive (a flush asked for while a write is under way is
 * a no-op in the destination, so it is asked again on the next tick), so the file follows a
 * running node within a fraction of a second.
 */
export class RequestLog {
  private readonly dest: ReturnType<typeof pino.destination>;
  private timer: NodeJS.Timeout | undefined;
  private lastLine = 0;
  /** The time of the last line, formatted (lines of the same millisecond share it). */
  private isoAt = 0;
  private iso = '';

  constructor(file: string, private readonly flushMs = REQUEST_LOG_FLUSH_MS) {
    this.dest = pino.destination({ dest: file, append: true, mkdir: true, sync: false, minLength: 8192, mode: 0o600 });
  }

  private tick(): void {
    try {
      this.dest.flush();
    } catch {
      // not open yet (the next tick tries again) or already closed
    }
    if (Date.now() - this.lastLine > IDLE_MS) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  write(e: RequestLogEntry): void {
    const now = Date.now();
    this.lastLine = now;
    if (now !== this.isoAt) {
      this.isoAt = now;
      this.iso = new Date(now).toISOString();
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.flushMs);
      this.timer.unref();
    }
    this.dest.write(
      `{"time":"${this.iso}","ip":${JSON.stringify(e.ip)},"user":${JSON.stringify(e.user ?? null)},"method":"${e.method}","url":${JSON.stringify(e.url)},"status":${e.status},"ms":${e.ms},"bytes":${e.bytes}}\n`,
    );
  }

  flush(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.dest.flushSync();
    } catch {
      // not open yet or already closed: nothing buffered to lose
    }
  }
}
