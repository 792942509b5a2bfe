// Host cards: this host's (what it tells another host about itself), and the strict reading of the
// cards and peer entries other hosts send (handshake and introductions).

import type { AddressInfo } from 'node:net';
import type { CoreContext } from '../context.js';
import type { Role } from '../contract.js';
import type { PairedPeer } from '../settings/schema.js';
import { b64 } from './crypto.js';
import { PairingError } from './errors.js';
import type { HostCard } from './handshake.js';

/** A peer entry as introductions carry it (key included: only ever inside an AEAD box). */
export type PeerEntry = Omit<PairedPeer, 'pairedAt'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** This host's card; its port is the API's bound port (the heartbeat socket uses the same number). */
export function myCard(ctx: CoreContext, address: AddressInfo | null): HostCard {
  const s = ctx.settings.view();
  const h = ctx.store.get('host');
  return {
    id: s.hostId,
    name: h.name,
    role: s.role,
    prio: h.prio,
    port: address?.port ?? s.api.port,
    pairId: s.pairing.pairId,
  };
}

export function parseCard(v: unknown): HostCard {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.id !== 'string' || !UUID.test(o.id))
    throw new PairingError('invalid', 'card.id must be a host id (UUID)', 'card.id');
  if (typeof o.name !== 'string' || o.name.length < 1 || o.name.length > 255)
    throw new PairingError('invalid', 'card.name must be 1-255 characters', 'card.name');
  if (o.role !== 'primary' && o.role !== 'fallback')
    throw new PairingError('invalid', 'card.role must be primary or fallback', 'card.role');
  if (!Number.isInteger(o.prio) || (o.prio as number) < 0 || (o.prio as number) > 255)
    throw new PairingError('invalid', 'card.prio must be 0-255', 'card.prio');
  if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535)
    throw new PairingError('invalid', 'card.port must be a port', 'card.port');
  if (o.pairId !== null && (typeof o.pairId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(o.pairId)))
    throw new PairingError('invalid', 'card.pairId is invalid', 'card.pairId');
  return {
    id: o.id.toLowerCase(),
    name: o.name,
    role: o.role as Role,
    prio: o.prio as number,
    port: o.port as number,
    pairId: o.pairId as string | null,
  };
}

export function parseEntries(v: unknown): PeerEntry[] {
  if (!Array.isArray(v) || v.length > 16) throw new Error('introductions malformed');
  return v.map((x) => {
    const card = parseCard({ ...(typeof x === 'object' && x !== null ? x : {}), pairId: null });
    const o = x as Record<string, unknown>;
    if (!b64(o.key, 32)) throw new Error('introduction key malformed');
    const addresses = Array.isArray(o.addresses)
      ? o.addresses.filter((a): a is string => typeof a === 'string' && a.length <= 64).slice(0, 16)
      : [];
    return {
      id: card.id,
      name: card.name,
      role: card.role,
      prio: card.prio,
      port: card.port,
      addresses,
      key: o.key as string,
    };
  });
}

/** Two hosts already in different pairs cannot pair: the message says what to do. */
export function conflictOfPairs(mine: string | null, theirs: string | null): string | null {
  if (mine && theirs && mine !== theirs) {
    return 'Both hosts already belong to different pairs. Unpair one of them first, then pair it with the other pair.';
  }
  return null;
}
