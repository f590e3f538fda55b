/**
 * A request sent over a raw socket with its headers only: it declares a body (Content-Length)
 * and never sends a byte of it, to see whether the server answers before reading the body,
 * and how long it then keeps the connection open.
 */
import { connect } from 'node:net';

export interface HeadOnlyAnswer {
  /** 0 when no answer came within the wait. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From the last header byte sent to the whole answer. */
  ms: number;
  /** Resolves with the ms from the answer until the server closed the connection (Infinity: still open when we gave up). */
  closed: Promise<number>;
}

export function headOnly(port: number, method: string, path: string, headers: Record<string, string>, opts: { waitMs?: number; closeWaitMs?: number } = {}): Promise<HeadOnlyAnswer> {
  const waitMs = opts.waitMs ?? 5000;
  const closeWaitMs = opts.closeWaitMs ?? 10_000;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let answeredAt = 0;
    let settled = false;
    let onClosed: (ms: number) => void = () => undefined;
    const closed = new Promise<number>((r) => (onClosed = r));
    const giveUpClose = () => {
      onClosed(Number.POSITIVE_INFINITY);
      socket.destroy();
    };
    let sentAt = 0;
    const finish = (answer: Omit<HeadOnlyAnswer, 'closed' | 'ms'>) => {
      if (settled) return;
      settled = true;
      answeredAt = Date.now();
      const timer = setTimeout(giveUpClose, closeWaitMs);
      socket.once('close', () => {
        clearTimeout(timer);
        onClosed(Date.now() - answeredAt);
      });
      resolve({ ...answer, ms: answeredAt - sentAt, closed });
    };
    const noAnswer = setTimeout(() => {
      finish({ status: 0, headers: {}, body: '' });
      socket.destroy();
    }, waitMs);
    socket.on('connect', () => {
      const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`, () => (sentAt = Date.now()));
      sentAt = Date.now();
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const hs: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        hs[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(hs['content-length'] ?? 0);
      const body = data.subarray(end + 4);
      if (body.length < length) return;
      clearTimeout(noAnswer);
      finish({ status, headers: hs, body: body.subarray(0, length).toString('utf8') });
    });
  });
}
