import { useCallback, useEffect, useRef, useState } from 'react';

export interface Async<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again (keeps the current data on screen meanwhile). */
  reload(): void;
  /** When the data last arrived. */
  at: Date | undefined;
}

/**
 * Runs `load` when `key` changes, and every `intervalMs` when given (live pages). A load whose
 * answer arrives after a newer one started is dropped; loads stop when the component unmounts.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, key: string, intervalMs?: number): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; at?: Date }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current(ac.signal)
      .then((data) => {
        if (!ac.signal.aborted) setState({ data, loading: false, at: new Date() });
      })
      .catch((error: Error) => {
        if (!ac.signal.aborted) setState((s) => ({ data: s.data, error, loading: false, at: s.at }));
      });
    return () => ac.abort();
  }, [key, tick]);

  useEffect(() => {
    if (!intervalMs) return;
    const t = window.setInterval(() => setTick((n) => n + 1), intervalMs);
    return () => window.clearInterval(t);
  }, [intervalMs, key]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload, at: state.at };
}

/** A one-shot action with its busy flag and error message (buttons and forms). */
export function useAction(): {
  busy: boolean;
  error: string;
  message: string;
  run(fn: () => Promise<string | void>): Promise<boolean>;
  clear(): void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const run = useCallback(async (fn: () => Promise<string | void>) => {
    setBusy(true);
    setError('');
    setMessage('');
    try {
      const msg = await fn();
      if (msg) setMessage(msg);
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => {
    setError('');
    setMessage('');
  }, []);
  return { busy, error, message, run, clear };
}

/**
 * Loads until `fresh(data)` holds, at most `tries` times, `delayMs` apart: behind a balancer the
 * next request may reach a node that has not yet heard of a change just made through another.
 * Returns the last answer either way.
 */
export async function loadFresh<T>(load: () => Promise<T>, fresh: (data: T) => boolean, signal?: AbortSignal, tries = 12, delayMs = 500): Promise<T> {
  let data = await load();
  for (let i = 1; i < tries && !fresh(data) && !signal?.aborted; i++) {
    await new Promise((r) => setTimeout(r, delayMs));
    data = await load();
  }
  return data;
}

/** What a list should (not) show after a change made through this browser. */
export interface Expectation {
  present?: string;
  absent?: string;
}

export function meets(names: string[], e: Expectation): boolean {
  return (e.present === undefined || names.includes(e.present)) && (e.absent === undefined || !names.includes(e.absent));
}
