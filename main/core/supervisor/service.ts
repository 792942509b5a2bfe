// One service's life, owned by one loop (the shape of Ollama's app/server/server.go `Run`):
// build the command, probe the port (adopt an `external` server, or fail on a foreign one),
// spawn, wait for health, watch; on a crash back off and go round; on abort stop gracefully and
// then kill the whole tree. Nothing else touches the process. Restart = abort, await, run again.

import { PROCESS_STATUSES, type ServiceEntry, type ServiceStatus } from '../contract.js';
import { afterExit, NO_CRASHES, type CrashHistory, type RestartPolicy } from './backoff.js';
import { childEnv, fatalMessage, type PlanResult, type ServiceSpec } from '../services/command.js';
import { checkHealth, type HealthMemo, type HealthResult } from './health.js';
import {
  externalVerdict,
  healthVerdict,
  nextCheckInMs,
  portInUseVerdict,
} from './health-verdict.js';
import { LineSplitter } from './logs.js';
import type { Clock } from '../util/clock.js';
import type { PidFiles } from './pidfile.js';
import type { PresetContext } from '../services/presets.js';
import { probePort, waitPortFree } from './ports.js';
import {
  isAlive,
  listProcesses,
  portHolder,
  processStartTime,
  signalPid,
  spawnOwned,
  sweepTree,
  treeOf,
  treeStop,
  waitFor,
  type OwnedChild,
  type PortHolder,
  type ProcInfo,
} from '../util/child/index.js';

export interface Timings {
  policy: RestartPolicy;
  /** SIGTERM → kill-the-tree grace (a service's own `stopTimeoutSeconds` wins). */
  stopTimeoutMs: number;
  /** Between health checks of a running (or external) service. */
  healthIntervalMs: number;
  /** Between health checks while starting (fast, so ready is seen soon after it happens). */
  startPollMs: number;
  /**
   * After a failed check of a running service, the next one comes this soon: a hang is confirmed in
   * seconds even with a long interval, and one lost answer costs no more than this.
   */
  recheckMs: number;
  /** One health check's deadline. */
  healthTimeoutMs: number;
  /** Failed checks in a row before a live service counts as hung. */
  hungAfterFailures: number;
  /** After an external server disappears, wait this long before starting our own (its owner may respawn it). */
  externalGraceMs: number;
}

export interface RunnerDeps {
  id: string;
  spec(): ServiceSpec;
  launch(): PlanResult;
  timings(): Timings;
  pidFiles: PidFiles;
  appStartTime(): string | null;
  baseEnv: Record<string, string | undefined>;
  /** Time for every decision here: back-off, health pacing, grace periods, the scan rate (ctx.clock). */
  clock: Clock;
  log(stream: 'stdout' | 'stderr' | 'supervisor', text: string): void;
  /** Something visible changed (status, pid, error, …). */
  changed(): void;
  notify(level: 'info' | 'warning' | 'error', code: string, message: string): void;
  /** The service became healthy (own process or external server). */
  ready(how: 'own' | 'external'): void;
  /** Why our own process must not start now (the Ollama desktop app runs), or null. */
  ownStartBlocked?(): Promise<string | null>;
  /** False once the supervisor is stopping: start() then starts nothing (default: always true). */
  mayStart?(): boolean;
  /** Before "Take over" stops the port's holder (the Ollama desktop app: quit it first). */
  beforeTakeOver?(): Promise<void>;
}

type Outcome =
  | { type: 'stopped' }
  | { type: 'fatal'; message: string }
  | { type: 'crashed'; message: string; healthyForMs: number };

const TAIL_LINES = 30;

export class ServiceRunner {
  status: ServiceStatus = 'stopped';
  pid: number | null = null;
  restarts = 0;
  lastError: string | null = null;
  hint: string | null = null;
  health: { ok: boolean; latencyMs: number | null } | null = null;
  version: string | null = null;
  #startedAt: number | null = null;
  #nextRestartAt: number | null = null;
  #history: CrashHistory = NO_CRASHES;
  #loop: Promise<void> | null = null;
  #abort: AbortController | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #tail: string[] = [];
  /** This process's log notices (preset `logNotices`): raised once each; the last is the problem. */
  #watch: {
    spec: ServiceSpec;
    ctx: PresetContext;
    raised: Set<string>;
    problem: string | null;
  } | null = null;
  /** Set by takeOver: a server reappearing right after we killed it was respawned by its owner. */
  #takeOverAt: number | null = null;

  constructor(private readonly d: RunnerDeps) {
    this.status = d.spec().enabled ? 'stopped' : 'disabled';
  }

  get id(): string {
    return this.d.id;
  }

  get running(): boolean {
    return this.#loop !== null;
  }

  entry(): ServiceEntry {
    const spec = this.d.spec();
    const now = this.d.clock.now();
    const live = PROCESS_STATUSES.has(this.status);
    return {
      id: spec.id,
      name: spec.name,
      enabled: spec.enabled,
      status: this.status,
      port: spec.port,
      pid: this.pid,
      restarts: this.restarts,
      uptimeSeconds:
        live && this.#startedAt !== null
          ? Math.max(0, Math.floor((now - this.#startedAt) / 1000))
          : 0,
      health: this.health,
      lastError: this.lastError,
      hint: this.hint,
      nextRestartInSeconds:
        this.status === 'backoff' && this.#nextRestartAt !== null
          ? Math.max(0, Math.round((this.#nextRestartAt - now) / 100) / 10)
          : null,
    };
  }

  /** Runs `fn` after every earlier start/stop/restart of this service has finished. */
  serialize<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Starts the loop (no-op while it runs). Returns at once; readiness comes later. */
  start(): void {
    if (this.#loop) return;
    // The supervisor is stopping: whoever asks (a wake, a restart, a take-over), nothing new is spawned.
    if (this.d.mayStart && !this.d.mayStart()) return;
    if (!this.d.spec().enabled) {
      this.#set({ status: 'disabled' });
      return;
    }
    this.#history = NO_CRASHES;
    const ac = new AbortController();
    this.#abort = ac;
    this.#set({ status: 'starting', lastError: null, hint: null, health: null });
    this.#loop = this.#run(ac.signal)
      .catch((err: unknown) => this.#fail(`supervisor error: ${(err as Error).message}`, 'error'))
      .finally(() => {
        if (this.#abort === ac) {
          this.#abort = null;
          this.#loop = null;
        }
      });
  }

  /** Aborts the loop and waits until the process tree is gone. */
  async stop(final: 'stopped' | 'disabled' = 'stopped'): Promise<void> {
    const loop = this.#loop;
    const wasExternal = this.status === 'external';
    if (loop) {
      this.#abort?.abort();
      await loop;
    }
    this.#startedAt = null;
    this.#nextRestartAt = null;
    // A failed service stays failed (with its message) until someone starts it.
    const keepFailed = !loop && this.status === 'failed' && final === 'stopped';
    this.#set({
      status: !this.d.spec().enabled ? 'disabled' : keepFailed ? 'failed' : final,
      pid: null,
      health: null,
      hint: wasExternal
        ? `Not stopped: ${this.d.spec().name} was started outside UnaMentis Server and keeps running; UnaMentis only stopped watching it.`
        : null,
    });
  }

  /** Stops whoever holds the port of an `external` server, then starts our own. */
  async takeOver(): Promise<void> {
    const spec = this.d.spec();
    if (this.status !== 'external' || spec.listenPort === null)
      throw new Error(
        `${spec.name} is not running outside UnaMentis Server (status ${this.status})`,
      );
    const holder = await portHolder(spec.listenPort);
    if (!holder?.pid) {
      throw new Error(
        `Cannot tell which process holds port ${spec.listenPort}, so it cannot be stopped from here. Stop ${spec.name} yourself, then start it in UnaMentis.`,
      );
    }
    await this.stop();
    await this.d.beforeTakeOver?.();
    this.d.log(
      'supervisor',
      `take over: stopping ${holder.name ?? 'process'} (pid ${holder.pid}) on port ${spec.listenPort}`,
    );
    signalPid(holder.pid, 'SIGTERM');
    const gone = await waitFor(() => !isAlive(holder.pid!), this.#stopTimeout(spec));
    if (!gone) await treeStop.killTree(holder.pid);
    await waitPortFree(spec.connectHost, spec.listenPort, 3000);
    this.#takeOverAt = this.d.clock.now();
    this.start();
  }

  /** Pids of the process tree (own child or adopted server). */
  async processTree(): Promise<number[]> {
    if (this.pid === null) return [];
    const procs = await listProcesses();
    return treeOf(this.pid, procs, treeStop.ownGroup && this.status !== 'external').map(
      (p) => p.pid,
    );
  }

  // ── the loop ────────────────────────────────────────────────────────────────────────────

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const spec = this.d.spec();
      const launch = this.d.launch();
      if (!launch.ok) return this.#fail(launch.problem, 'warning');
      if (spec.listenPort !== null) {
        const t = this.d.timings();
        const port = await probePort(
          spec.connectHost,
          spec.bindHost,
          spec.listenPort,
          t.healthTimeoutMs,
        );
        if (signal.aborted) return;
        if (port === 'in-use') {
          const h = await checkHealth(spec.health, spec.connectHost, spec.listenPort, {
            timeoutMs: t.healthTimeoutMs,
            healthPath: spec.healthPath,
          });
          if (signal.aborted) return;
          if (portInUseVerdict(h.state) === 'adopt') {
            await this.#watchExternal(spec, h, signal);
            continue;
          }
          return this.#fail(
            portConflictMessage(spec, await portHolder(spec.listenPort), h),
            'error',
          );
        }
      }
      const blocked = await this.d.ownStartBlocked?.();
      if (signal.aborted) return;
      if (blocked) {
        if (this.hint !== blocked) this.d.log('supervisor', blocked);
        this.#set({ status: 'starting', pid: null, hint: blocked, health: null, lastError: null });
        // Listing processes costs a PowerShell on Windows: not more often than this.
        await sleep(this.d.clock, 1500, signal);
        continue;
      }
      const outcome = await this.#runOnce(spec, launch, signal);
      if (outcome.type === 'stopped') return;
      if (outcome.type === 'fatal') return this.#fail(outcome.message, 'error');
      const t = this.d.timings();
      const [history, decision] = afterExit(
        this.#history,
        { now: this.d.clock.now(), healthyForMs: outcome.healthyForMs },
        t.policy,
      );
      this.#history = history;
      if (decision.type === 'fail') {
        return this.#fail(
          `${outcome.message}. It stopped ${decision.crashes} times within ${Math.round(decision.windowMs / 1000)} s, so it is not restarted again: fix the cause, then start it.`,
          'error',
        );
      }
      this.restarts++;
      this.#nextRestartAt = this.d.clock.now() + decision.delayMs;
      this.#startedAt = null;
      this.#set({ status: 'backoff', pid: null, lastError: outcome.message, health: null });
      this.d.log(
        'supervisor',
        `${outcome.message}; restarting in ${(decision.delayMs / 1000).toFixed(1)} s`,
      );
      await sleep(this.d.clock, decision.delayMs, signal);
      this.#nextRestartAt = null;
    }
  }

  async #runOnce(
    spec: ServiceSpec,
    launch: Extract<PlanResult, { ok: true }>,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { plan } = launch;
    const t = this.d.timings();
    this.#tail = [];
    this.#watch = {
      spec,
      ctx: { ...launch.ctx, argv: plan.args },
      raised: new Set(),
      problem: null,
    };
    this.d.log('supervisor', `starting: ${[plan.file, ...plan.args].map(quoteArg).join(' ')}`);
    // No shell; its own process group on POSIX, so the tree can be stopped as one (util/child).
    const owned = spawnOwned(plan.file, plan.args, {
      cwd: plan.cwd,
      env: childEnv(this.d.baseEnv, plan),
    });
    if (!owned.ok)
      return { type: 'fatal', message: `Could not start ${plan.file}: ${owned.error.message}` };
    const proc = owned.child;
    const child = proc.process;
    const spawned = await proc.started();
    if (spawned) {
      return {
        type: 'fatal',
        message: `Could not start ${plan.file}: ${spawned.message}. Check services.${spec.id}.command.`,
      };
    }
    child.on('error', () => {}); // later errors (e.g. a failed kill) must not crash the app
    const pid = child.pid!;
    const startedAt = this.d.clock.now();
    let healthyAt: number | null = null;
    this.#startedAt = startedAt;
    this.#set({ status: 'starting', pid, health: null, hint: null });
    this.#writePidFile(spec, pid, plan.file);

    for (const [stream, src] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      const lines = new LineSplitter((text) => this.#line(stream, text));
      src?.setEncoding('utf8');
      src?.on('data', (chunk: string) => lines.push(chunk));
      src?.on('end', () => lines.flush());
    }

    let settle!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((r) => (settle = r));
    let settled = false;
    let stopping = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      settle(o);
    };

    child.once('exit', (code, sig) => {
      if (stopping) return;
      const healthyFor = healthyAt === null ? 0 : this.d.clock.now() - healthyAt;
      const tail = this.#tail.join('\n');
      const why = exitDescription(code, sig, this.#tail);
      if (healthyAt === null) {
        const fatal = fatalMessage(spec, tail, launch.ctx);
        if (fatal) return finish({ type: 'fatal', message: fatal });
      }
      if (
        spec.listenPort !== null &&
        /address already in use|EADDRINUSE|bind.*in use/i.test(tail)
      ) {
        return finish({
          type: 'crashed',
          message: `${spec.name} could not listen: port ${spec.listenPort} is already in use`,
          healthyForMs: healthyFor,
        });
      }
      finish({ type: 'crashed', message: `${spec.name} ${why}`, healthyForMs: healthyFor });
    });

    const stopTree = async (why: string) => {
      stopping = true;
      await this.#terminate(proc, pid, this.#stopTimeout(spec), why);
    };

    // Every process seen in its tree while it runs (pid + start time). A helper that leaves the group
    // with setsid once its parent has exited cannot be found from the tree afterwards: issue #20 saw 5
    // such leftovers per crash. They are matched by start time, so a reused pid is never hit.
    const seen = new Map<string, ProcInfo>();
    let lookedAt = 0;
    const look = async () => {
      if (!treeStop.ownGroup) return;
      for (const p of treeOf(pid, await listProcesses()))
        if (p.pid !== pid && seen.size < 4096) seen.set(`${p.pid}/${p.startTime}`, p);
    };
    // At its exit the group still holds what it forked last: look once more, at once.
    const lastLook = new Promise<void>((r) =>
      child.once(
        'exit',
        () =>
          void look()
            .catch(() => {})
            .finally(r),
      ),
    );

    const onAbort = () => {
      void stopTree('stop requested').then(() => finish({ type: 'stopped' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    // Health: nextCheckInMs() sets the pace, healthVerdict() says what each check means (health-verdict.ts).
    const healthLoop = async () => {
      let failures = 0;
      let notifiedProblem: string | null = null;
      /** This process's last passing check: while it keeps passing, only its last request is asked again. */
      let memo: HealthMemo | null = null;
      while (!settled && !stopping) {
        const pace = this.d.timings();
        await sleep(
          this.d.clock,
          nextCheckInMs(
            { starting: this.status === 'starting', failures },
            { ...pace, startPollMs: t.startPollMs },
          ),
          signal,
        );
        if (settled || stopping) return;
        if (this.d.clock.now() - lookedAt >= 200) {
          lookedAt = this.d.clock.now(); // a /proc scan: at most 5 a second while starting polls every 100 ms
          await look().catch(() => {});
        }
        if (spec.listenPort === null) {
          if (healthyAt === null) {
            healthyAt = this.d.clock.now();
            this.#set({ status: 'running', health: null, lastError: null });
            this.d.ready('own');
          }
          continue;
        }
        const tm = this.d.timings();
        const h = await checkHealth(spec.health, spec.connectHost, spec.listenPort, {
          timeoutMs: tm.healthTimeoutMs,
          healthPath: spec.healthPath,
          again: memo,
        });
        if (settled || stopping) return;
        memo = h.memo ?? null;
        const v = healthVerdict({
          state: h.state,
          starting: this.status === 'starting',
          failures,
          startedForMs: this.d.clock.now() - startedAt,
          startTimeoutMs: spec.startTimeoutMs,
          hungAfterFailures: tm.hungAfterFailures,
        });
        failures = v.failures;
        if (v.type === 'healthy') {
          notifiedProblem = null;
          if (h.version) this.version = h.version;
          if (this.status !== 'running') {
            if (healthyAt === null) healthyAt = this.d.clock.now();
            this.#set({
              status: 'running',
              health: { ok: true, latencyMs: h.latencyMs },
              lastError: null,
            });
            this.d.log('supervisor', `ready (health check answered in ${h.latencyMs ?? '?'} ms)`);
            this.d.ready('own');
          } else {
            this.health = { ok: true, latencyMs: h.latencyMs };
          }
        } else if (v.type === 'start_timeout') {
          const message = `${spec.name} did not become ready within ${Math.round(spec.startTimeoutMs / 1000)} s (${h.message ?? h.state})`;
          this.d.log('supervisor', `${message}; stopping it`);
          await stopTree('start timed out');
          return finish({ type: 'crashed', message, healthyForMs: 0 });
        } else if (v.type === 'problem') {
          // The reason its log gave (VibeVoice's [FATAL] line) says more than /health does.
          const message =
            (h.state === 'error' && this.#watch?.problem) ||
            `${spec.name} reports a problem: ${h.message}`;
          this.#set({
            status: 'unhealthy',
            health: { ok: false, latencyMs: h.latencyMs },
            lastError: message,
          });
          if (notifiedProblem !== message) {
            notifiedProblem = message;
            this.d.log('supervisor', message);
            // Raised already when its log said so.
            if (!this.#watch?.raised.has(message))
              this.d.notify('warning', 'service_unhealthy', message);
          }
        } else if (v.type === 'failing' || v.type === 'hung') {
          this.#set({
            status: 'unhealthy',
            health: { ok: false, latencyMs: null },
            lastError: `health check failed: ${h.message ?? h.state}`,
          });
          if (v.type === 'hung') {
            const message = `${spec.name} stopped answering its health check (${failures} failures in a row: ${h.message ?? h.state})`;
            this.d.log('supervisor', `${message}; restarting it`);
            const healthyFor = healthyAt === null ? 0 : this.d.clock.now() - healthyAt;
            await stopTree('hung');
            return finish({ type: 'crashed', message, healthyForMs: healthyFor });
          }
        }
      }
    };
    void healthLoop();

    const result = await outcome;
    signal.removeEventListener('abort', onAbort);
    if (!stopping) {
      // It exited by itself: whatever it left (orphaned runners holding VRAM, setsid'd helpers) goes too.
      await lastLook;
      await this.#sweep(pid, [...seen.values()], 1000);
    }
    this.d.pidFiles.remove(spec.id);
    this.pid = null;
    return result;
  }

  async #watchExternal(spec: ServiceSpec, first: HealthResult, signal: AbortSignal): Promise<void> {
    const port = spec.listenPort!;
    let holder = await portHolder(port);
    const respawned = this.#takeOverAt !== null && this.d.clock.now() - this.#takeOverAt < 10_000;
    this.#takeOverAt = null;
    const hint = respawned
      ? `${spec.name} was started again by another program right after UnaMentis stopped it` +
        (spec.id === 'ollama'
          ? ' — almost certainly the Ollama desktop app, which restarts its server about 1 s after it dies. Quit the desktop app (its icon → Quit Ollama), then choose Take over.'
          : '. Stop that program first, then choose Take over.')
      : (spec.preset?.externalHint(port) ??
        `${spec.name} is already running on port ${port}, started outside UnaMentis Server: it is used as is, but not managed. Take over stops that process and starts it here.`);
    this.#startedAt = this.d.clock.now();
    this.d.log(
      'supervisor',
      `port ${port} already answers as ${spec.name}${holder?.pid ? ` (pid ${holder.pid}${holder.name ? `, ${holder.name}` : ''})` : ''}: adopting it as external`,
    );
    const apply = (h: HealthResult) => {
      const ok = h.state === 'ok';
      const wasOk = this.health?.ok === true;
      if (h.version) this.version = h.version;
      this.#set({
        status: 'external',
        pid: holder?.pid ?? null,
        hint,
        health: { ok, latencyMs: h.latencyMs },
        lastError: ok
          ? null
          : h.state === 'error'
            ? `${spec.name} reports a problem: ${h.message}`
            : `health check: ${h.message ?? h.state}`,
      });
      if (ok && !wasOk) this.d.ready('external');
    };
    this.health = null;
    apply(first);
    let downs = 0;
    while (!signal.aborted) {
      const t = this.d.timings();
      await sleep(this.d.clock, t.healthIntervalMs, signal);
      if (signal.aborted) return;
      const h = await checkHealth(spec.health, spec.connectHost, port, {
        timeoutMs: t.healthTimeoutMs,
        healthPath: spec.healthPath,
      });
      if (signal.aborted) return;
      const v = externalVerdict({ state: h.state, downs, hungAfterFailures: t.hungAfterFailures });
      downs = v.downs;
      if (v.type !== 'up') {
        this.#set({
          health: { ok: false, latencyMs: null },
          lastError: `health check: ${h.message ?? h.state}`,
        });
        if (v.type === 'gone') {
          this.d.log(
            'supervisor',
            `the external ${spec.name} on port ${port} is gone; starting our own in ${(t.externalGraceMs / 1000).toFixed(1)} s unless it comes back`,
          );
          this.#set({ status: 'starting', pid: null, hint: null, health: null, lastError: null });
          await sleep(this.d.clock, t.externalGraceMs, signal);
          return;
        }
        continue;
      }
      // Replaced between two checks (the Ollama desktop app restarts its server 1 s after it dies,
      // well inside one 5 s interval): the pid we show, sample and stop is the one answering now.
      if (holder?.pid && !isAlive(holder.pid)) {
        holder = await portHolder(port);
        if (signal.aborted) return;
        this.d.log(
          'supervisor',
          `the external ${spec.name} on port ${port} was replaced${holder?.pid ? ` (now pid ${holder.pid})` : ''}`,
        );
      }
      apply(h);
    }
  }

  // ── stopping ────────────────────────────────────────────────────────────────────────────

  /**
   * Graceful ask (SIGTERM; Windows: a console control event, as Ollama's app stops its server),
   * then after `timeoutMs` the whole tree is killed, then what is left of it (util/child).
   */
  async #terminate(proc: OwnedChild, pid: number, timeoutMs: number, why: string): Promise<void> {
    const secs = (timeoutMs / 1000).toFixed(1);
    const before = await proc.stopTree({
      graceMs: timeoutMs,
      onAsk: (how) =>
        this.d.log('supervisor', `stopping (${why}): ${how}, ${secs} s before the tree is killed`),
      onKill: () =>
        this.d.log('supervisor', `still running after ${secs} s: killing its process tree`),
    });
    await this.#sweep(pid, before, Math.min(1000, timeoutMs));
  }

  /** Stops what is left of a tree whose leader has exited (util/child `sweepTree`), and says so. */
  async #sweep(pid: number, before: ProcInfo[], graceMs: number): Promise<void> {
    await sweepTree(pid, before, graceMs, (left) =>
      this.d.log(
        'supervisor',
        `stopping ${left.length} leftover process(es) of its tree: ${left.join(', ')}`,
      ),
    );
  }

  #stopTimeout(spec: ServiceSpec): number {
    return spec.stopTimeoutMs ?? this.d.timings().stopTimeoutMs;
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────

  #line(stream: 'stdout' | 'stderr', text: string): void {
    this.#tail.push(text);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    this.d.log(stream, text);
    const w = this.#watch;
    if (!w) return;
    for (const n of w.spec.preset?.logNotices ?? []) {
      const m = n.pattern.exec(text);
      const message = m ? n.message(m, w.ctx) : '';
      if (!message || w.raised.has(message)) continue;
      w.raised.add(message);
      w.problem = message;
      this.d.notify('warning', 'service_problem', message);
    }
  }

  #writePidFile(spec: ServiceSpec, pid: number, command: string): void {
    void processStartTime(pid).then((startTime) => {
      if (startTime === null || this.pid !== pid) return;
      try {
        this.d.pidFiles.write({
          v: 1,
          service: spec.id,
          pid,
          pgid: treeStop.ownGroup ? pid : null,
          startTime,
          command,
          startedAt: new Date(this.d.clock.now()).toISOString(),
          appPid: process.pid,
          appStartTime: this.d.appStartTime(),
        });
      } catch (err) {
        this.d.log('supervisor', `could not write the pid file: ${(err as Error).message}`);
      }
    });
  }

  #fail(message: string, level: 'warning' | 'error'): void {
    this.#startedAt = null;
    this.#nextRestartAt = null;
    this.#set({ status: 'failed', pid: null, lastError: message, health: null });
    this.d.log('supervisor', `failed: ${message}`);
    this.d.notify(level, 'service_failed', `${this.d.spec().name}: ${message}`);
  }

  #set(
    patch: Partial<Pick<ServiceRunner, 'status' | 'pid' | 'lastError' | 'hint' | 'health'>>,
  ): void {
    let visible = false;
    for (const [k, v] of Object.entries(patch) as [keyof typeof patch, unknown][]) {
      const cur = this[k];
      if (k === 'health') {
        const a = cur as ServiceRunner['health'];
        const b = v as ServiceRunner['health'];
        if (a?.ok !== b?.ok || (a === null) !== (b === null)) visible = true;
      } else if (cur !== v) visible = true;
      (this as Record<string, unknown>)[k] = v;
    }
    if (visible) this.d.changed();
  }
}

function portConflictMessage(
  spec: ServiceSpec,
  holder: PortHolder | null,
  h: HealthResult,
): string {
  const who = holder?.pid
    ? `${holder.name ?? 'a process'} (pid ${holder.pid})`
    : holder?.name
      ? holder.name
      : 'another program (the system does not say which)';
  const answer =
    h.state === 'down'
      ? `it does not answer HTTP (${h.message})`
      : `it is not ${spec.name} (${h.message})`;
  return `Port ${spec.listenPort} is already in use by ${who}, and ${answer}. Stop that program, or set services.${spec.id}.port to a free port.`;
}

function exitDescription(code: number | null, sig: NodeJS.Signals | null, tail: string[]): string {
  const last = [...tail].reverse().find((l) => l.trim() !== '');
  const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
  return last ? `${how}: ${last.trim().slice(0, 300)}` : how;
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a);
}

/** Waits `ms` on `clock` (a manual or sped-up clock in tests), or until `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
