// Requests in the last minute, in 60 one-second buckets (pure apart from the `now` passed in).

export class MinuteCounter {
  readonly #buckets = new Array<number>(60).fill(0);
  #second = 0;

  add(now: number): void {
    this.#roll(now);
    this.#buckets[this.#second % 60]!++;
  }

  total(now: number): number {
    this.#roll(now);
    return this.#buckets.reduce((a, b) => a + b, 0);
  }

  #roll(now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.#second) return;
    const steps = Math.min(60, second - this.#second);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#second + i) % 60] = 0;
    this.#second = second;
  }
}
