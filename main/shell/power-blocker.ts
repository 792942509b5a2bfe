// Keeps the OS awake while hibernation says so (active/warm): Electron's powerSaveBlocker with
// 'prevent-app-suspension', behind the core's PowerBlocker interface. Electron's object comes in
// through the constructor, so this file runs (and is tested) without Electron.

import type { PowerSaveBlocker } from 'electron';
import type { PowerBlocker } from '../core/power/index.js';

export class ElectronPowerBlocker implements PowerBlocker {
  readonly mechanism = 'powerSaveBlocker';
  #id: number | null = null;

  constructor(
    private readonly psb: Pick<PowerSaveBlocker, 'start' | 'stop' | 'isStarted'>,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  get held(): boolean {
    return this.#id !== null;
  }

  acquire(reason: string): void {
    if (this.#id !== null) return;
    this.#id = this.psb.start('prevent-app-suspension');
    this.log(`keeping the OS awake (powerSaveBlocker ${this.#id}): ${reason}`);
  }

  release(): void {
    if (this.#id === null) return;
    if (this.psb.isStarted(this.#id)) this.psb.stop(this.#id);
    this.log(`OS sleep allowed again (powerSaveBlocker ${this.#id} stopped)`);
    this.#id = null;
  }

  async dispose(): Promise<void> {
    this.release();
  }
}
