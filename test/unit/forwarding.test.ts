// Where a request at this host's front door goes: here or the paired host that serves (pure).
import { describe, expect, it } from 'vitest';
import { forwardTarget, type ForwardPeer } from '../../main/core/pairing/forwarding.js';

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
