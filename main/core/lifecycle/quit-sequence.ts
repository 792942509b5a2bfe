// The app's way out, as one small state machine: the first quit request (tray Quit, Cmd-Q, OS
// shutdown, a failed start) runs the cleanup once; every request while it runs is held (Electron's
// `before-quit` must keep calling preventDefault, or the process ends with the services still up);
// the process exits when the cleanup ends or its deadline passes, whichever is first. No Electron
// here: the shell passes `stop` and `exit`, tests pass a manual clock.

import type { Clock } from '../util/clock.js';

export type QuitPhase = 'running' | 'stopping' | 'done';

/** Why the app quits: each has its own deadline (an OS shutdown waits only a few seconds for us). */
export type QuitReason = 'quit' | 'shutdown' | 'start-failed';

/**
 * How long the cleanup may take before the process exits anyway. Quit: the supervisor's stop
 * timeout (5 s) and tree kill, plus the handoff. Shutdown: systemd's InhibitDelayMaxSec defaults to
 * 5 s and Windows shows its "apps are preventing shutdown" screen after about 5 s, so stay under it.
 */
export const QUIT_DEADLINE_MS: Record<QuitReason, number> = {
  quit: 20_000,
  shutdown: 4_500,
  'start-failed': 20_000,
};

/** Pure: what `before-quit` (or any quit request) does in each phase. */
export function onQuitRequest(phase: QuitPhase): { prevent: boolean; startCleanup: boolean } {
  switch (phase) {
    case 'running':
      return { prevent: true, startCleanup: true };
    case 'stopping':
      // Hold the quit: the cleanup already running will exit when it is done.
      return { prevent: true, startCleanup: false };
    case 'done':
      // Our own exit is under way; nothing left to hold.
      return { prevent: false, startCleanup: false };
  }
}

export interface QuitSequenceDeps {
  /** The cleanup: stop the core (handoff, mDNS goodbye, services, power blocker). */
  cleanup(reason: QuitReason): Promise<void>;
  /** Ends the process (Electron: app.exit). Called once. */
  exit(code: number): void;
  clock: Clock;
  log?: (msg: string, err?: unknown) => void;
  deadlines?: Partial<Record<QuitReason, number>>;
}

export class QuitSequence {
  #phase: QuitPhase = 'running';
  #reason: QuitReason | null = null;
  #done: Promise<void> | null = null;

  constructor(private readonly deps: QuitSequenceDeps) {}

  get phase(): QuitPhase {
    return this.#phase;
  }

  /** Why the quit started (null while running). */
  get reason(): QuitReason | null {
    return this.#reason;
  }

  /**
   * A quit request. Returns true when the caller must prevent the default (the process must not
   * end yet). The first request starts the cleanup; its exit code is the one the process exits with.
   */
  request(reason: QuitReason = 'quit', code = 0): boolean {
    const { prevent, startCleanup } = onQuitRequest(this.#phase);
    if (startCleanup) {
      this.#phase = 'stopping';
      this.#reason = reason;
      this.#done = this.#run(reason, code);
    }
    return prevent;
  }

  /** Resolves once the process has been told to exit (for tests and the shutdown handlers). */
  finished(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  async #run(reason: QuitReason, code: number): Promise<void> {
    const { clock, log = () => {} } = this.deps;
    const ms = this.deps.deadlines?.[reason] ?? QUIT_DEADLINE_MS[reason];
    let timer: unknown = null;
    const deadline = new Promise<'late'>((resolve) => {
      timer = clock.setTimeout(() => resolve('late'), ms);
    });
    const cleanup = this.deps.cleanup(reason).then(
      () => 'ok' as const,
      (err: unknown) => {
        log('cleanup before exit failed', err);
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([cleanup, deadline]);
    clock.clearTimeout(timer);
    if (outcome === 'late')
      log(`cleanup did not finish within ${ms / 1000} s (${reason}); exiting anyway`);
    this.#phase = 'done';
    this.deps.exit(code);
  }
}
