// The pair's membership across hosts: the authenticated peer operations this host sends (nonce, then
// an AEAD box with the pair's RPC key), the keys a newcomer gets with each member, and unpairing.
// The receiving side is handlers.ts (`rpc`).

import { randomBytes } from 'node:crypto';
import type { CoreContext, SeenHosts } from '../context.js';
import type { PairedPeer } from '../settings/schema.js';
import type { Logger } from '../util/logger.js';
import type { PeerEntry } from './cards.js';
import type { PostJson } from './client.js';
import { seal } from './crypto.js';
import { PairingError } from './errors.js';
import { candidateAddresses } from './heartbeat-socket.js';
import type { PeersStore } from './peers-store.js';

const RPC_TIMEOUT_MS = 3_000;

export interface MembershipDeps {
  ctx: CoreContext;
  log: Logger;
  post: PostJson;
  peers: PeersStore;
  discovery: SeenHosts | null;
}

export class Membership {
  constructor(private readonly d: MembershipDeps) {}

  /** One authenticated operation on a paired host, at each address it may have until one works. */
  async rpc(p: PairedPeer, op: string, data: unknown): Promise<void> {
    const { post, peers } = this.d;
    const me = peers.me();
    let lastErr: unknown = null;
    for (const addr of candidateAddresses(p, this.d.discovery)) {
      try {
        const { nonce } = (await post(
          addr,
          p.port,
          '/api/pairing/peer/nonce',
          { from: me },
          RPC_TIMEOUT_MS,
        )) as { nonce: string };
        if (typeof nonce !== 'string') throw new Error('no nonce in the answer');
        const box = seal(peers.keysOf(p).rpc, { op, data }, `${me}|${p.id}|${nonce}`);
        await post(addr, p.port, '/api/pairing/peer', { from: me, nonce, box }, RPC_TIMEOUT_MS);
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr ?? new Error('no address known');
  }

  /** The newcomer gets a fresh key with each existing member; this host tells the members. */
  introductions(exclude: string): PeerEntry[] {
    return this.d.peers
      .list()
      .filter((p) => p.id !== exclude)
      .map((p) => ({
        id: p.id,
        name: p.name,
        role: p.role,
        prio: p.prio,
        addresses: p.addresses,
        port: p.port,
        key: randomBytes(32).toString('base64'),
      }));
  }

  /** Tells each member the newcomer's key with it; an unreachable member is a warning, not a failure. */
  async announceNewcomer(newcomer: PeerEntry, intros: PeerEntry[]): Promise<void> {
    const { ctx, log, peers } = this.d;
    const pairId = ctx.settings.get().pairing.pairId;
    await Promise.all(
      intros.map(async (member) => {
        const p = peers.list().find((x) => x.id === member.id);
        if (!p) return;
        try {
          await this.rpc(p, 'introduce', { pairId, peer: { ...newcomer, key: member.key } });
        } catch (err) {
          log.warn('could not introduce the new member to a peer', {
            peer: p.name,
            err: (err as Error).message,
          });
          ctx.store.notify({
            level: 'warning',
            code: 'pairing_introduce',
            message: `${p.name} could not be told about ${newcomer.name} (${(err as Error).message}). Pair ${newcomer.name} with ${p.name} directly if they do not see each other.`,
          });
        }
      }),
    );
  }

  /** Without id (or this host's): leave the pair. With a member's id: remove it. Trust goes here at once. */
  async unpair(id?: string): Promise<{ removed: string[]; unreachable: string[] }> {
    const { ctx, log, peers } = this.d;
    const all = peers.list();
    const unreachable: string[] = [];
    let removed: string[];
    if (!id || id === peers.me()) {
      removed = all.map((p) => p.id);
      await Promise.all(
        all.map((p) =>
          this.rpc(p, 'leave', {}).catch((err: unknown) => {
            unreachable.push(p.id);
            log.warn('could not tell a peer we leave', {
              peer: p.name,
              err: (err as Error).message,
            });
          }),
        ),
      );
    } else {
      const target = all.find((p) => p.id === id);
      if (!target) throw new PairingError('unknown', `No paired host with id ${id}.`);
      removed = [id];
      await Promise.all(
        all.map((p) =>
          this.rpc(p, 'remove', { id }).catch((err: unknown) => {
            unreachable.push(p.id);
            log.warn('could not tell a peer about the removal', {
              peer: p.name,
              err: (err as Error).message,
            });
          }),
        ),
      );
    }
    peers.remove(removed);
    const names = (ids: string[]) =>
      ids.map((x) => all.find((p) => p.id === x)?.name ?? x).join(', ');
    ctx.store.notify({
      level: unreachable.length ? 'warning' : 'info',
      code: 'pairing_unpaired',
      message: unreachable.length
        ? `Unpaired ${names(removed)} here. ${names(unreachable)} could not be reached and still trusts this computer until it is unpaired there too (its heartbeats are ignored here).`
        : `Unpaired ${names(removed)}.`,
    });
    return { removed, unreachable };
  }
}
