import { describe, expect, it } from 'vitest';
import { judge, median } from '../../main/core/latency/judge.js';

describe('latency verdict', () => {
  it('reports the cold request apart and judges the warm median against 200 ms', () => {
    const r = judge({
      service: 'ollama',
      metric: 'ttft',
      label: 'LLM',
      detail: 'mistral:7b',
      timesMs: [2400, 90, 250, 120],
    });
    expect(r).toMatchObject({
      coldMs: 2400,
      samplesMs: [90, 250, 120],
      medianMs: 120,
      targetMs: 200,
      pass: true,
      error: null,
    });
    expect(
      judge({
        service: 'vibevoice',
        metric: 'ttfb',
        label: 'TTS',
        detail: null,
        timesMs: [300, 210, 230, 190],
      }).pass,
    ).toBe(false);
  });
  it('a value at the target fails (the target is "under 200 ms")', () => {
    expect(
      judge({ service: 'piper', metric: 'ttfb', label: 'TTS', detail: null, timesMs: [200] }).pass,
    ).toBe(false);
    expect(
      judge({ service: 'piper', metric: 'ttfb', label: 'TTS', detail: null, timesMs: [199.9] })
        .pass,
    ).toBe(true);
  });
  it('an error or no timing is "not measured", never a pass', () => {
    expect(
      judge({
        service: 'ollama',
        metric: 'ttft',
        label: 'LLM',
        detail: null,
        timesMs: [],
        error: 'Ollama is stopped',
      }),
    ).toMatchObject({ pass: null, error: 'Ollama is stopped', medianMs: null });
    expect(
      judge({ service: 'ollama', metric: 'ttft', label: 'LLM', detail: null, timesMs: [] }),
    ).toMatchObject({ pass: null, error: 'no measurement' });
  });
  it('median of even and odd counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
