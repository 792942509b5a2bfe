// When a changed TXT record may go on the wire, so that every browser ends up with the current one.
//
// Why pace at all: RFC 6762 §10.2. A record with the cache-flush bit flushes only the records of the
// same name and type that the receiver got MORE than one second earlier. Two different TXT values
// less than a second apart therefore both stay cached (TTL 75 min), and a later change back to one
// of them is a mere refresh to the receiver: no event (mDNSResponder on the iPhone and python-zeroconf
// both apply the rule). Measured in the lab: after serving 0→1→0 within 0.4 s, python-zeroconf's
// ServiceBrowser reported none of the later flips.
//
// The rules (`paceTxt` decides, `TxtPacer` keeps the state and the one timer):
// - A changed record goes out no sooner than `gapMs` (1 s plus a margin) after the last TXT we sent.
//   ciao sends ~50 ms after `updateTxt`, the same for every update, so spacing the calls spaces the
//   packets. Changes inside the gap coalesce: one send of the newest record when the gap ends; a
//   change undone before then sends nothing. A first change after a quiet spell waits only
//   `collectMs`, so changes made in one step go out in one packet.
// - Each change is sent a second time `gapMs` later (RFC 6762 §8.4 wants at least two announcements
//   one second apart; ciao 1.3.12 sends one), unless a newer change takes that slot. A superseded
//   value is never sent after a newer one, and the repeat also flushes an old value that slipped out
//   just before or after the change in ciao's answer to a query (built when the query came).
// - While ciao announces (after probing: 3 announcements, 1 s then 2 s apart, each built from the
//   record it has at that moment) a change is handed over at once and rides the next announcement.
//   Once the last announcement is built, ciao would send a change 50 ms after it: the change waits
//   for that announcement to go, then for the gap.

import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { txtEqual, type TxtRecord } from './txt.js';

/** RFC 6762 §10.2's one second, plus a margin for timers and the receiver's own delays. */
export const TXT_GAP_MS = 1_150;
/** How long a first change waits for others made in the same step. */
export const TXT_COLLECT_MS = 20;

/**
 * Where ciao is with the record:
 * - `holding`: not announcing (probing, or sending a goodbye): the next announcement carries what it has;
 * - `announcing`: announcements under way, the last one not built yet: a change rides the next one;
 * - `closing`: the last announcement is built (or on its way);
 * - `announced`: ciao sends a changed record once, ~50 ms after `updateTxt`.
 */
export type CiaoPhase = 'holding' | 'announcing' | 'closing' | 'announced';

export interface PaceInput {
  now: number;
  phase: CiaoPhase;
  /** When the newest wanted record first differed from the one ciao has; null: no change pending. */
  changedAt: number | null;
  /** When we last sent a TXT record (an update, or the end of ciao's announcements); null: never. */
  lastSentAt: number | null;
  /** The record ciao has went out once only and still needs its second announcement. */
  repeatOwed: boolean;
}

export type PaceDecision =
  | { do: 'nothing' }
  /** Give the record to ciao now: it keeps it for its next announcement. */
  | { do: 'hand-over' }
  /** ciao's last announcement is going out: decide again once it has gone. */
  | { do: 'wait-announcements' }
  /** `updateTxt` at `at` (now or later), the newest record (or the same one again, for the repeat). */
  | { do: 'send'; at: number };

export function paceTxt(
  i: PaceInput,
  gapMs = TXT_GAP_MS,
  collectMs = TXT_COLLECT_MS,
): PaceDecision {
  const changed = i.changedAt !== null;
  switch (i.phase) {
    case 'holding':
    case 'announcing':
      return changed ? { do: 'hand-over' } : { do: 'nothing' };
    case 'closing':
      return changed || i.repeatOwed ? { do: 'wait-announcements' } : { do: 'nothing' };
    case 'announced': {
      const gapEnd = i.lastSentAt === null ? -Infinity : i.lastSentAt + gapMs;
      if (changed) return { do: 'send', at: Math.max(i.changedAt! + collectMs, gapEnd, i.now) };
      if (i.repeatOwed) return { do: 'send', at: Math.max(gapEnd, i.now) };
      return { do: 'nothing' };
    }
  }
}

/** What the pacer drives (ciao's service, or a fake in tests). */
export interface PacedTarget {
  /** Read at every decision. */
  phase(): CiaoPhase;
  updateTxt(txt: TxtRecord): void;
  /** Calls `done` once the announcements under way have gone out or were cancelled. */
  afterAnnouncements(done: () => void): void;
}

export interface PacerOptions {
  gapMs?: number;
  collectMs?: number;
  logger?: Logger;
}

/** Holds the wanted TXT record and hands it to ciao when `paceTxt` allows. One timer at most. */
export class TxtPacer {
  /** Sends: changes, repeats; changes replaced or undone before their turn. */
  readonly counts = { changes: 0, repeats: 0, skipped: 0 };
  #given: TxtRecord;
  #wanted: TxtRecord;
  #changedAt: number | null = null;
  #lastSentAt: number | null = null;
  #repeatOwed = false;
  #handedWhileAnnouncing = false;
  #waitingAnnouncements = false;
  #timer: unknown = null;
  #stopped = false;
  readonly #gapMs: number;
  readonly #collectMs: number;

  constructor(
    initial: TxtRecord,
    private readonly target: PacedTarget,
    private readonly clock: Clock,
    private readonly opts: PacerOptions = {},
  ) {
    this.#given = initial;
    this.#wanted = initial;
    this.#gapMs = opts.gapMs ?? TXT_GAP_MS;
    this.#collectMs = opts.collectMs ?? TXT_COLLECT_MS;
  }

  /** ciao has started announcing (`advertise()` resolved): its first announcement goes out now. */
  announced(): void {
    this.#lastSentAt = this.clock.now();
    this.#decide();
  }

  /** The record we want the network to have. */
  want(txt: TxtRecord): void {
    if (this.#stopped) return;
    const pending = this.#changedAt !== null;
    this.#wanted = txt;
    if (txtEqual(txt, this.#given)) {
      if (pending) this.counts.skipped++; // undone before it went out
      this.#changedAt = null;
    } else if (pending) {
      this.counts.skipped++; // the pending value is replaced by a newer one
    } else {
      this.#changedAt = this.clock.now();
    }
    this.#decide();
  }

  /** Drops anything pending (a goodbye follows). */
  stop(): void {
    this.#stopped = true;
    this.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #decide(): void {
    if (this.#stopped) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    const now = this.clock.now();
    const phase = this.target.phase();
    if ((phase === 'announcing' || phase === 'closing') && !this.#waitingAnnouncements) {
      this.#waitingAnnouncements = true;
      this.target.afterAnnouncements(() => this.#announcementsDone());
    }
    const d = paceTxt(
      {
        now,
        phase,
        changedAt: this.#changedAt,
        lastSentAt: this.#lastSentAt,
        repeatOwed: this.#repeatOwed,
      },
      this.#gapMs,
      this.#collectMs,
    );
    if (d.do === 'hand-over') {
      this.target.updateTxt(this.#wanted);
      this.#given = this.#wanted;
      this.#changedAt = null;
      if (phase === 'announcing') this.#handedWhileAnnouncing = true;
    } else if (d.do === 'send') {
      if (d.at <= now) this.#send(now);
      else this.#timer = this.clock.setTimeout(() => this.#decide(), d.at - now);
    }
  }

  #send(now: number): void {
    const change = this.#changedAt !== null;
    const waitedMs = change ? now - this.#changedAt! : 0;
    this.target.updateTxt(this.#wanted);
    this.#given = this.#wanted;
    this.#changedAt = null;
    this.#lastSentAt = now;
    this.#repeatOwed = change;
    if (change) this.counts.changes++;
    else this.counts.repeats++;
    this.opts.logger?.debug(change ? 'TXT update sent' : 'TXT update repeated', {
      waitedMs,
      txt: this.#wanted,
    });
    this.#decide(); // schedules the repeat
  }

  #announcementsDone(): void {
    this.#waitingAnnouncements = false;
    if (this.#stopped) return;
    this.#lastSentAt = this.clock.now();
    // A change that rode the announcements may have gone out once only (in the last one).
    if (this.#handedWhileAnnouncing) this.#repeatOwed = true;
    this.#handedWhileAnnouncing = false;
    this.#decide();
  }
}
