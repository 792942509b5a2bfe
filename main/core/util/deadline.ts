// A deadline for one operation, cleared when the operation ends. AbortSignal.timeout(ms) is never
// cleared: its timer always runs out, later, then builds a TimeoutError (a DOMException, with a stack)
// and aborts whatever still listens, for a request that finished long before. On paths taken every
// couple of seconds (the /api/ps poll, mDNS /health checks) that was a large share of the idle CPU.

export interface Deadline {
  /** Aborts at the deadline (reason: a TimeoutError, as AbortSignal.timeout's) or when a linked signal does. */
  readonly signal: AbortSignal;
  /** Also abort when `other` does (until `clear`); returns `signal`. */
  link(other: AbortSignal | null | undefined): AbortSignal;
  /** The operation is over: stop the timer and unlink. Safe to call more than once. */
  clear(): void;
}

export function deadline(ms: number, ...signals: (AbortSignal | null | undefined)[]): Deadline {
  const ac = new AbortController();
  const linked = new Set<AbortSignal>();
  function follow(this: AbortSignal): void {
    ac.abort(this.reason);
  }
  const timer = setTimeout(
    () => ac.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  timer.unref?.();
  const d: Deadline = {
    signal: ac.signal,
    link(other) {
      if (!other || other === ac.signal || linked.has(other)) return ac.signal;
      if (other.aborted) ac.abort(other.reason);
      else {
        other.addEventListener('abort', follow, { once: true });
        linked.add(other);
      }
      return ac.signal;
    },
    clear() {
      clearTimeout(timer);
      for (const s of linked) s.removeEventListener('abort', follow);
      linked.clear();
    },
  };
  for (const s of signals) d.link(s);
  return d;
}
