// util/deadline: like AbortSignal.timeout (same TimeoutError), plus linked signals, and cleared when
// the operation ends so nothing fires later.

import { describe, expect, it } from 'vitest';
import { deadline } from '../../main/core/util/deadline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deadline', () => {
  it('aborts at the deadline with a TimeoutError, like AbortSignal.timeout', async () => {
    const d = deadline(20);
    await sleep(60);
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    expect((d.signal.reason as DOMException).message).toBe(
      'The operation was aborted due to timeout',
    );
  });

  it('cleared before the deadline: never fires', async () => {
    const d = deadline(20);
    let fired = false;
    d.signal.addEventListener('abort', () => (fired = true));
    d.clear();
    await sleep(60);
    expect(fired).toBe(false);
    expect(d.signal.aborted).toBe(false);
  });

  it('follows linked signals (given at once or later, already aborted too) until cleared', () => {
    const a = new AbortController();
    const d = deadline(10_000, a.signal);
    a.abort(new Error('caller gave up'));
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toBe('caller gave up');
    d.clear();

    const gone = AbortSignal.abort('already');
    const d2 = deadline(10_000);
    expect(d2.link(gone)).toBe(d2.signal);
    expect(d2.signal.reason).toBe('already');
    d2.clear();

    const b = new AbortController();
    const d3 = deadline(10_000);
    d3.link(b.signal);
    d3.clear();
    b.abort();
    expect(d3.signal.aborted).toBe(false);
  });
});
