// Where a request at this host's front door goes: here or the paired host that serves (pure).
import { describe, expect, it } from 'vitest';
import {
  advertisedPort,
  forwardTarget,
  type ForwardPeer,
} from '../../main/core/pairing/forwarding.js';

const pc: ForwardPeer = { id: 'pc', address: '10.0.0.3', alive: true, serving: true };
const base = {
  selfServing: false,
  forwarded: false,
  peers: [pc],
  unreachableUntil: new Map<string, number>(),
  now: 1_000,
};

describe('forwardTarget', () => {
  it('a host that does not serve passes requests to the paired host that serves', () => {
    expect(forwardTarget(base)).toEqual(pc);
  });
  it('the serving host serves here', () => {
    expect(forwardTarget({ ...base, selfServing: true })).toBeNull();
  });
  it('a request another host already forwarded is served here (no loops while two hosts disagree)', () => {
    expect(forwardTarget({ ...base, forwarded: true })).toBeNull();
  });
  it('a peer that is silent, not serving or without an address is not a target', () => {
    expect(forwardTarget({ ...base, peers: [{ ...pc, alive: false }] })).toBeNull();
    expect(forwardTarget({ ...base, peers: [{ ...pc, serving: false }] })).toBeNull();
    expect(forwardTarget({ ...base, peers: [{ ...pc, address: '' }] })).toBeNull();
  });
  it('a connection to it failed a moment ago: served here at once, until the mark runs out', () => {
    const unreachableUntil = new Map([['pc', 2_000]]);
    expect(forwardTarget({ ...base, unreachableUntil })).toBeNull();
    expect(forwardTarget({ ...base, unreachableUntil, now: 2_000 })).toEqual(pc);
  });
});

describe('advertisedPort', () => {
  it('is the port the serving host advertises for the service, else null (use our own)', () => {
    const peer = { ports: { ollama: 11500, vibevoice: 8890 } };
    expect(advertisedPort(peer, 'ollama')).toBe(11500);
    expect(advertisedPort(peer, 'piper')).toBeNull();
    expect(advertisedPort({}, 'ollama')).toBeNull();
    expect(advertisedPort({ ports: { ollama: 0 } }, 'ollama')).toBeNull();
    expect(advertisedPort({ ports: { ollama: 70_000 } }, 'ollama')).toBeNull();
  });
});

describe('ForwardState: the port of the serving host', () => {
  it('is the one its mDNS record advertises for the service, null when it says none', async () => {
    const { ForwardState } = await import('../../main/core/pairing/forward-state.js');
    const { nullLogger } = await import('../../main/core/util/logger.js');
    const seen = {
      id: 'pc',
      name: 'PC',
      port: 11400,
      addresses: ['10.0.0.3'],
      txt: {
        role: 'fallback' as const,
        prio: 100,
        serving: true,
        state: 'active' as const,
        ports: { llm: 11500, tts: 8890 },
      },
      via: { address: '10.0.0.3' },
      lastSeenAt: 0,
      health: { ok: true, ready: true },
    };
    const state = new ForwardState({
      log: nullLogger,
      mono: () => 1_000,
      deadAfterMs: () => 3_000,
      peers: { view: () => [{ id: 'pc', addresses: ['10.0.0.3'] }] } as never,
      election: () => ({ serving: false, peers: { pc: { advert: { serving: true } } } }) as never,
      alive: () => true,
      checkGone: () => {},
      discovery: { list: () => [seen], onChange: () => () => {} },
    });
    expect(state.forwardTo(false, 'ollama')).toEqual({
      peerId: 'pc',
      host: '10.0.0.3',
      port: 11500,
    });
    expect(state.forwardTo(false, 'vibevoice')?.port).toBe(8890);
    expect(state.forwardTo(false, 'piper')?.port).toBeNull();
    expect(state.forwardTo(true, 'ollama')).toBeNull();
  });
});

describe("election: a peer whose port refuses connections is gone at once ('gone')", () => {
  it('the fallback promotes on the proof, not 3 heartbeats later; a later heartbeat revives the peer', async () => {
    const { electionConfig, initialElection, step } =
      await import('../../main/core/pairing/election.js');
    const cfg = electionConfig({
      heartbeatIntervalMs: 1000,
      failbackHoldDownSeconds: 10,
      sessionIdleSeconds: 60,
    });
    const self = {
      prio: 100,
      ready: true,
      failed: false,
      state: 'active' as const,
      activityAt: null,
    };
    const advert = {
      prio: 200,
      ready: true,
      failed: false,
      state: 'active' as const,
      serving: true,
      claim: false,
      eligible: true,
      activityAgeMs: null,
    };
    let e = initialElection('pc', self, ['mac'], 0, cfg);
    [e] = step(e, { type: 'heartbeat', now: 100, from: 'mac', advert }, cfg);
    [e] = step(e, { type: 'tick', now: 3_050 }, cfg);
    [e] = step(e, { type: 'heartbeat', now: 3_100, from: 'mac', advert }, cfg);
    expect(e.serving).toBe(false);
    const [gone, fx] = step(e, { type: 'gone', now: 3_400, from: 'mac' }, cfg);
    expect(gone.serving).toBe(true);
    expect(fx).toContainEqual(expect.objectContaining({ type: 'serve', serving: true }));
    // The Mac restarts and says it serves no longer: heard again, alive again.
    const [back] = step(
      gone,
      { type: 'heartbeat', now: 5_000, from: 'mac', advert: { ...advert, serving: false } },
      cfg,
    );
    expect(back.peers.mac!.lastSeen).toBe(5_000);
  });
});

describe('connectRefused: only a reset is proof that nothing listens', () => {
  it('refused on a closed loopback port; not on a listening one', async () => {
    const net = await import('node:net');
    const { connectRefused } = await import('../../main/core/pairing/probe.js');
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    expect(await connectRefused('127.0.0.1', port, 500)).toBe(false);
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await connectRefused('127.0.0.1', port, 500)).toBe(true);
  });
});
