// What the dashboard and the tray tell the user to type in the app, and the header's serving line
// for a host that cannot serve.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../main/core/contract.js';
import { buildTrayMenu, type MenuItem } from '../../main/core/tray-menu/menu-model.js';
import { setupAdvice } from '../../renderer/src/setup-model.js';

function snapshot(host: Partial<Snapshot['host']> = {}, peers: Snapshot['peers'] = []): Snapshot {
  return {
    v: 1,
    host: {
      id: 'h',
      name: 'Studio Mac',
      platform: 'darwin',
      role: 'primary',
      prio: 200,
      serving: true,
      port: 11400,
      sharedName: { name: 'unamentis.local', held: true, conflict: null },
      addresses: ['192.168.1.20'],
      ...host,
    },
    hibernation: { state: 'active', idleSeconds: 0, next: null },
    services: [],
    gpu: { sampledAt: null, gpus: [], models: [] },
    peers,
    notices: [],
  };
}

const labels = (items: MenuItem[]): string[] =>
  items.flatMap((i) =>
    i.type === 'separator' ? [] : i.type === 'submenu' ? [i.label] : [i.label],
  );

describe('iPhone setup advice', () => {
  it('the shared name first, the IP second, and a QR code in the app format {host, port, name}', () => {
    const a = setupAdvice(snapshot());
    expect(a.name).toBe('unamentis.local');
    expect(a.ip).toBe('192.168.1.20');
    expect(JSON.parse(a.qrText)).toEqual({
      host: 'unamentis.local',
      port: 11400,
      name: 'Studio Mac',
    });
    expect(a.warnings).toEqual([]);
  });

  it('says when the name will not work now: a conflict, nobody holding it, mDNS off', () => {
    expect(
      setupAdvice(
        snapshot({
          sharedName: { name: 'unamentis.local', held: false, conflict: '192.168.1.77' },
        }),
      ).warnings[0],
    ).toMatch(/192\.168\.1\.77.*discovery\.sharedName/);
    expect(
      setupAdvice(
        snapshot({
          serving: false,
          sharedName: { name: 'unamentis.local', held: false, conflict: null },
        }),
      ).warnings[0],
    ).toMatch(/No computer of the pair answers/);
    const { sharedName: _n, ...noName } = snapshot().host;
    expect(setupAdvice({ ...snapshot(), host: noName }).warnings[0]).toMatch(/does not announce/);
  });

  it('a paired peer that serves holds the name: no warning; the IP comes with its caveat', () => {
    const peer = {
      id: 'p',
      name: 'Gaming PC',
      role: 'fallback' as const,
      prio: 100,
      serving: true,
      state: 'active' as const,
      lastSeenSeconds: 0,
      paired: true,
      alive: true,
    };
    const a = setupAdvice(
      snapshot(
        { serving: false, sharedName: { name: 'unamentis.local', held: false, conflict: null } },
        [peer],
      ),
    );
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatch(/passes requests on/);
  });
});

describe('only a host that can serve says so', () => {
  it('tray: "Cannot serve the iPhone: why" instead of "Serving the iPhone", and the setup line opens #iphone', () => {
    const items = buildTrayMenu(snapshot({ cannotServe: 'Ollama: ollama was not found' }), {
      startAtLogin: false,
    });
    const l = labels(items);
    expect(l).toContain('Cannot serve the iPhone: Ollama: ollama was not found');
    expect(l).not.toContain('Serving the iPhone');
    const setup = items.find((i) => i.type === 'action' && i.label.startsWith('In the app:'));
    expect(setup).toMatchObject({
      label: 'In the app: unamentis.local (or 192.168.1.20) — QR code…',
      action: { kind: 'openDashboard', section: 'iphone' },
    });
    expect(labels(buildTrayMenu(snapshot(), { startAtLogin: false }))).toContain(
      'Serving the iPhone',
    );
  });
});
