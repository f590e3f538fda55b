/** Runs wrk and parses its report. */
import { check, run } from './proc.js';

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  durationS: number;
  /** Latency in milliseconds. */
  latency: { avg: number; stdev: number; max: number; p50?: number; p75?: number; p90?: number; p99?: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx3xx: number;
  raw: string;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function ms(value: string, unit: string): number {
  const f = TIME_UNITS[unit];
  if (f === undefined) throw new Error(`unknown wrk time unit '${unit}'`);
  return Number(value) * f;
}

/** Parses the text wrk prints (with or without --latency). */
export function parseWrk(out: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  if (!rps) throw new Error(`wrk printed no 'Requests/sec:' line:\n${out}`);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(out);
  const lat = /^\s+Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)/m.exec(out);
  const latency: WrkResult['latency'] = lat
    ? { avg: ms(lat[1], lat[2]), stdev: ms(lat[3], lat[4]), max: ms(lat[5], lat[6]) }
    : { avg: NaN, stdev: NaN, max: NaN };
  for (const p of [50, 75, 90, 99] as const) {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)`, 'm').exec(out);
    if (m) latency[`p${p}`] = ms(m[1], m[2]);
  }
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requestsPerSec: Number(rps[1]),
    requests: total ? Number(total[1]) : NaN,
    durationS: total ? ms(total[2], total[3]) / 1000 : NaN,
    latency,
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx3xx: non ? Number(non[1]) : 0,
    raw: out,
  };
}

export interface WrkOptions {
  wrk: string;
  url: string;
  headers: Record<string, string>;
  threads: number;
  connections: number;
  durationS: number;
  /** A Lua script (-s) that builds the requests. */
  script?: string;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.durationS}s`, '--latency'];
  for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}: ${v}`);
  if (o.script) args.push('-s', o.script);
  args.push(o.url);
  const r = check(await run(o.wrk, args, { timeoutMs: (o.durationS + 30) * 1000 }), `wrk ${o.url}`);
  return parseWrk(r.stdout);
}

/** Why a wrk figure cannot be trusted, if it cannot. */
export function wrkProblem(r: WrkResult): string | undefined {
  if (r.non2xx3xx > 0) return `${r.non2xx3xx} of ${r.requests} responses were not 2xx/3xx`;
  const e = r.socketErrors;
  const errs = e.connect + e.read + e.write;
  if (errs > 0) return `socket errors: connect ${e.connect}, read ${e.read}, write ${e.write}`;
  if (!(r.requests > 0)) return 'no request completed';
  return undefined;
}
