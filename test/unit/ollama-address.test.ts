// Ollama's address is worked out in one function (services/ollama.ts); the sampler, the models
// routes and setup all ask it.

import { describe, expect, it } from 'vitest';
import { ollamaBaseUrl, OLLAMA_DEFAULT_PORT } from '../../main/core/services/ollama.js';
import { desktopAppPort } from '../../main/core/services/ollama-desktop.js';

describe('ollamaBaseUrl', () => {
  it("prefers the supervisor's address (the program's own, also behind the front door)", () => {
    expect(ollamaBaseUrl({ supervisor: 'http://127.0.0.1:40123', port: 11434 })).toBe(
      'http://127.0.0.1:40123',
    );
    expect(ollamaBaseUrl({ supervisor: 'http://[::1]:11434' })).toBe('http://[::1]:11434');
  });

  it('else loopback on the known port', () => {
    expect(ollamaBaseUrl({ supervisor: null, port: 11500 })).toBe('http://127.0.0.1:11500');
    expect(ollamaBaseUrl({ supervisor: '', port: 11500 })).toBe('http://127.0.0.1:11500');
  });

  it("else Ollama's default port", () => {
    expect(OLLAMA_DEFAULT_PORT).toBe(11434);
    expect(ollamaBaseUrl()).toBe('http://127.0.0.1:11434');
    expect(ollamaBaseUrl({ port: null })).toBe('http://127.0.0.1:11434');
  });

  it("the desktop app's port falls back to the same default", () => {
    expect(desktopAppPort(null)).toBe(OLLAMA_DEFAULT_PORT);
    expect(desktopAppPort('HOME=/x\0OLLAMA_HOST=0.0.0.0:11500\0')).toBe(11500);
  });
});
