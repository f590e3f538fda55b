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

/** How long a line may wait in the buffer before it is written (the file is at most this far behind). */
export const REQUEST_LOG_FLUSH_MS = 250;

/**
 * `logs/request.log`: one JSON line per request, written through a buffered asynchronous
 * destination (mode 0600). Lines are built by hand; a general-purpose logger costs several
 * per cent of a small download. The buffer is written when it holds 8 KiB or, at the latest,
 * `REQUEST_LOG_FLUSH_MS` after its first line, so the file is never more than that behind a
 * running node.
 */
export class RequestLog {
  private readonly dest: ReturnType<typeof pino.destination>;
  private timer: NodeJS.Timeout | undefined;

  constructor(file: string, private readonly flushMs = REQUEST_LOG_FLUSH_MS) {
    this.dest = pino.destination({ dest: file, append: true, mkdir: true, sync: false, minLength: 8192, mode: 0o600 });
  }

  write(e: RequestLogEntry): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      try {
        this.dest.flush();
      } catch {
        // not open yet (the next line schedules another flush) or already closed
      }
    }, this.flushMs).unref();
    this.dest.write(
      `{"time":"${new Date().toISOString()}","ip":${JSON.stringify(e.ip)},"user":${JSON.stringify(e.user ?? null)},"method":"${e.method}","url":${JSON.stringify(e.url)},"status":${e.status},"ms":${e.ms},"bytes":${e.bytes}}\n`,
    );
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.dest.flushSync();
    } catch {
      // not open yet or already closed: nothing buffered to lose
    }
  }
}
