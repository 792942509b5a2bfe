// OS power events → the core: on suspend, hand off and say goodbye; on resume, rejoin. Works on
// any emitter with Electron's powerMonitor events, so it is tested with a plain EventEmitter.

export interface PowerEventSource {
  on(event: 'suspend' | 'resume' | 'shutdown', listener: () => void): unknown;
  off(event: 'suspend' | 'resume' | 'shutdown', listener: () => void): unknown;
}

export interface Suspendable {
  suspend(): Promise<void>;
  resume(): Promise<void>;
}

export class PowerEvents {
  #chain: Promise<void> = Promise.resolve();
  readonly #onSuspend = () => this.#run('suspend', () => this.core.suspend());
  readonly #onResume = () => this.#run('resume', () => this.core.resume());
  // Electron passes an Event (its typings say no argument): preventDefault asks the OS to wait for
  // our cleanup (Linux: a systemd delay inhibitor; macOS: the terminate reply is deferred). Without
  // it the OS ends the process at once: no handoff, no goodbye, services left running.
  readonly #onShutdown = (event?: { preventDefault(): void }) => {
    if (!this.onShutdown) return;
    event?.preventDefault();
    this.onShutdown();
  };

  constructor(
    private readonly source: PowerEventSource,
    private readonly core: Suspendable,
    private readonly log: (msg: string, err?: unknown) => void = () => {},
    /** The OS is shutting down (quit cleanly: handoff, goodbye, services, then exit promptly). */
    private readonly onShutdown?: () => unknown,
  ) {
    source.on('suspend', this.#onSuspend);
    source.on('resume', this.#onResume);
    source.on('shutdown', this.#onShutdown);
  }

  /** Resolves when the last suspend/resume handled has finished (they run one after another). */
  idle(): Promise<void> {
    return this.#chain;
  }

  dispose(): void {
    this.source.off('suspend', this.#onSuspend);
    this.source.off('resume', this.#onResume);
    this.source.off('shutdown', this.#onShutdown);
  }

  #run(what: string, fn: () => Promise<void>): void {
    // In order: a quick suspend → resume must not resume before the goodbye went out.
    this.#chain = this.#chain.then(async () => {
      this.log(`OS ${what}`);
      try {
        await fn();
      } catch (err) {
        this.log(`handling OS ${what} failed`, err);
      }
    });
  }
}
