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

/**
 * `logs/request.log`: one JSON line per request, written through a buffered asynchronous
 * destination. Lines are built by hand; a general-purpose logger costs several per cent of a
 * small download.
 */
export class RequestLog {
  private readonly dest: ReturnType<typeof pino.destination>;

  constructor(file: string) {
    this.dest = pino.destination({ dest: file, append: true, mkdir: true, sync: false, minLength: 8192 });
  }

  write(e: RequestLogEntry): void {
    this.dest.write(
      `{"time":"${new Date().toISOString()}","ip":${JSON.stringify(e.ip)},"user":${JSON.stringify(e.user ?? null)},"method":"${e.method}","url":${JSON.stringify(e.url)},"status":${e.status},"ms":${e.ms},"bytes":${e.bytes}}\n`,
    );
  }

  flush(): void {
    try {
      this.dest.flushSync();
    } catch {
      // not open yet or already closed: nothing buffered to lose
    }
  }
}
