import { describe, expect, it } from 'vitest';
import { splitLinks } from '../../renderer/src/components/Linkify.js';
import { withoutServiceErrors } from '../../renderer/src/notice-filter.js';
import type { Snapshot } from '../../main/core/contract.js';

describe('install URLs in messages become links', () => {
  it('splits out http(s) URLs, leaving trailing punctuation and brackets as text', () => {
    expect(
      splitLinks('Install Ollama (https://ollama.com/download), or set services.ollama.command.'),
    ).toEqual([
      { text: 'Install Ollama (' },
      { text: 'https://ollama.com/download', href: 'https://ollama.com/download' },
      { text: '), or set services.ollama.command.' },
    ]);
    expect(splitLinks('See https://example.org/a.')).toEqual([
      { text: 'See ' },
      { text: 'https://example.org/a', href: 'https://example.org/a' },
      { text: '.' },
    ]);
    expect(splitLinks('no link; javascript:alert(1) file:///etc')).toEqual([
      { text: 'no link; javascript:alert(1) file:///etc' },
    ]);
  });
});

describe('each error once on the Services page', () => {
  it("drops a service_failed notice that the service's row already shows", () => {
    const s = {
      services: [
        { name: 'Ollama', lastError: 'Ollama was not found. Install it.' },
        { name: 'Piper', lastError: null },
      ],
      notices: [
        {
          id: '1',
          code: 'service_failed',
          level: 'error',
          message: 'Ollama: Ollama was not found. Install it.',
          at: '',
        },
        {
          id: '2',
          code: 'service_failed',
          level: 'error',
          message: 'Piper: crashed earlier',
          at: '',
        },
        {
          id: '3',
          code: 'settings_reset',
          level: 'warning',
          message: 'Settings were reset',
          at: '',
        },
      ],
    } as unknown as Pick<Snapshot, 'notices' | 'services'>;
    expect(withoutServiceErrors(s).map((n) => n.id)).toEqual(['2', '3']);
  });
});
