// Small hooks the panels share: a ticking clock, the hash route, and async actions with
// busy/error state.

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './client.js';
import { formatHash, parseHash, type Route } from './route.js';

/** The current time, re-rendered every `ms` (for countdowns and uptimes between snapshots). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function useHashRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const navigate = useCallback((r: Route) => {
    const hash = formatHash(r);
    if (location.hash !== hash) location.hash = hash;
    else setRoute(r);
  }, []);
  return [route, navigate];
}

export interface ActionState {
  busy: boolean;
  error: string | null;
  /** The API's `field` for a 400, so a form can point at the input. */
  field: string | null;
}

/** Wraps an async action: one at a time, with its error kept for display. */
export function useAction<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): [(...args: A) => Promise<R | undefined>, ActionState, () => void] {
  const [state, setState] = useState<ActionState>({ busy: false, error: null, field: null });
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  const busyRef = useRef(false);
  const run = useCallback(async (...args: A) => {
    if (busyRef.current) return undefined;
    busyRef.current = true;
    setState({ busy: true, error: null, field: null });
    try {
      const r = await fnRef.current(...args);
      setState({ busy: false, error: null, field: null });
      return r;
    } catch (err) {
      const e = err as Error;
      setState({
        busy: false,
        error: e.message || String(err),
        field: err instanceof ApiError ? (err.field ?? null) : null,
      });
      return undefined;
    } finally {
      busyRef.current = false;
    }
  }, []);
  const clear = useCallback(() => setState({ busy: false, error: null, field: null }), []);
  return [run, state, clear];
}
