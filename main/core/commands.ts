// User commands enter the core here, from every view (HTTP API, tray, dashboard over IPC).
// Capabilities register the commands they own; views never poke a process directly.

interface CommandMap {
  'service.start': { id: string };
  'service.stop': { id: string };
  'service.restart': { id: string };
  'service.takeOver': { id: string };
  'services.startAll': Record<never, never>;
  'services.stopAll': Record<never, never>;
  activity: { source: string };
  wake: { source: string };
  hibernate: { state: string };
  keepAwake: { on: boolean; minutes?: number | null };
  'notice.dismiss': { id: string };
  /** Re-read the GPU inventory (after a driver install or an eGPU plugged in). */
  'gpu.refresh': Record<string, never>;
  /** Pairing (issue 7): ask a discovered host (by id) or an address to pair; the other host shows a code. */
  'pairing.start': { id?: string; address?: string; port?: number };
  /** The code the other host shows. */
  'pairing.confirm': { code: string };
  /** Abandon a pairing in progress (either side); on the code side it also lifts a lock-out. */
  'pairing.cancel': Record<never, never>;
  /** Without id: this host leaves its pair. With a peer's id: that host is removed from the pair. */
  'pairing.unpair': { id?: string };
  /** "Stop serving": hand the pair to another host now, until resumed. */
  'serving.stop': Record<never, never>;
  'serving.resume': Record<never, never>;
}

export type CommandName = keyof CommandMap;
export type Command = { [K in CommandName]: { type: K } & CommandMap[K] }[CommandName];

type Handler<K extends CommandName> = (
  cmd: { type: K } & CommandMap[K],
) => Promise<unknown> | unknown;

export class CommandBus {
  readonly #handlers = new Map<CommandName, Handler<never>>();
  readonly #observers = new Set<(cmd: Command) => void>();

  /** Sees every command before it runs (hibernation counts user actions as activity). */
  onExecute(observer: (cmd: Command) => void): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  register<K extends CommandName>(type: K, handler: Handler<K>): void {
    if (this.#handlers.has(type)) throw new Error(`command ${type} already has a handler`);
    this.#handlers.set(type, handler as Handler<never>);
  }

  has(type: CommandName): boolean {
    return this.#handlers.has(type);
  }

  async execute(cmd: Command): Promise<unknown> {
    const handler = this.#handlers.get(cmd.type);
    if (!handler) throw new Error(`no handler for command ${cmd.type}`);
    for (const observe of this.#observers) {
      try {
        observe(cmd);
      } catch {
        // An observer must never stop a user's command.
      }
    }
    return (handler as Handler<typeof cmd.type>)(cmd as never);
  }
}
