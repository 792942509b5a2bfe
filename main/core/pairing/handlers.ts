// The handlers other hosts call (open to the LAN, `pairing` rate class; routes/pairing.ts): the
// handshake's responder half (`request`, `finish`), and the authenticated peer operations
// (`peer/nonce`, `peer`: introduce, leave, remove). Every answer to another host starts here.

import { randomBytes } from 'node:crypto';
import type { CoreContext } from '../context.js';
import type { Logger } from '../util/logger.js';
import { conflictOfPairs, parseCard, parseEntries, type PeerEntry } from './cards.js';
import { b64, hmac, open, seal } from './crypto.js';
import { PairingError } from './errors.js';
import type { HostCard, Responder } from './handshake.js';
import type { Membership } from './membership.js';
import type { PeersStore } from './peers-store.js';
import type { Tally } from './snapshot.js';
import { unmap } from './transport.js';
import type { IncomingRequest, PeerApi } from './types.js';

const NONCE_TTL_MS = 30_000;
const MAX_NONCES = 64;

export interface PeerApiDeps {
  ctx: CoreContext;
  log: Logger;
  responder: Responder;
  peers: PeersStore;
  members: Membership;
  myCard: () => HostCard;
  tally: Tally;
  publishSoon: () => void;
  /** A host asked to pair with this one: show its code (tray, dashboard). */
  onRequest: (r: IncomingRequest) => void;
  /** The pair's members changed here: tell the election, and the new member, at once. */
  joined: () => void;
}

const newPairId = () => randomBytes(4).toString('hex');

export function createPeerApi(d: PeerApiDeps): PeerApi {
  const { ctx, log, responder, peers, members, myCard, tally, publishSoon, onRequest, joined } = d;
  /** Single-use nonces for peer operations, 30 s each. */
  const nonces = new Map<string, { from: string; expires: number }>();

  return {
    async request(body, client) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (o.v !== 1)
        throw new PairingError(
          'invalid',
          'Unsupported pairing version (this host speaks v1).',
          'v',
        );
      const card = parseCard(o.card);
      if (card.id === peers.me())
        throw new PairingError('conflict', 'A host cannot pair with itself.');
      const clash = conflictOfPairs(ctx.settings.get().pairing.pairId, card.pairId);
      if (clash) throw new PairingError('conflict', clash);
      const address = unmap(client);
      const r = responder.request(card, address);
      if (!r.ok) {
        if (r.reason === 'locked') throw new PairingError('locked', r.message);
        throw new PairingError('conflict', r.message);
      }
      const inc = r.incoming;
      const request: IncomingRequest = {
        code: inc.code,
        fromId: card.id,
        fromName: card.name,
        address,
        expiresAt: new Date(inc.expiresAt).toISOString(),
        attemptsLeft: responder.maxFailures,
      };
      log.info('pairing requested', { from: card.name, address });
      if (ctx.settings.get().notifications.pairing) {
        // The code itself stays off the open snapshot: the dashboard and the tray read it locally.
        ctx.store.notify({
          level: 'info',
          code: 'pairing_request',
          message: `${card.name} (${address}) asks to pair with this computer. Open the dashboard's Pairing section (or the tray) to see the 6-digit code and type it on ${card.name}. It is valid for 2 minutes.`,
        });
      }
      ctx.events.broadcast('pairing', { incoming: request });
      onRequest(request);
      publishSoon();
      return {
        v: 1,
        sid: inc.sid.toString('base64'),
        share: inc.share.share.toString('base64'),
        card: myCard(),
        expiresInSeconds: Math.round(responder.ttlMs / 1000),
      };
    },

    async finish(body, client) {
      const o = (body ?? {}) as Record<string, unknown>;
      const share = b64(o.share, 32);
      const mac = b64(o.mac, 32);
      if (typeof o.sid !== 'string' || typeof o.id !== 'string' || !share || !mac)
        throw new PairingError('invalid', 'sid, id, share and mac are required');
      // Bound to the requester: only the request made from this address, with its sid, is looked at.
      const r = responder.finish(o.sid, o.id.toLowerCase(), share, mac, unmap(client));
      publishSoon();
      if (!r.ok) {
        if (r.locked) {
          ctx.store.notify({
            level: 'warning',
            code: 'pairing_locked',
            message: `Pairing from ${unmap(client)} is locked for 10 minutes after ${responder.maxFailures} wrong codes. If that was not you, someone on the network tried to pair with this computer; other computers can still pair. Cancel in the dashboard to unlock.`,
          });
          throw new PairingError('locked', r.message);
        }
        if (r.reason === 'none') throw new PairingError('unknown', r.message);
        throw new PairingError('unauthenticated', r.message);
      }
      const inc = r.incoming;
      const aad = `${inc.sid.toString('base64')}|${inc.from.id}|${peers.me()}`;
      let theirs: { card: HostCard; introductions: PeerEntry[] };
      try {
        const boxed = open(r.keys.boxInitiator, o.box, aad) as Record<string, unknown>;
        theirs = {
          card: parseCard(boxed.card),
          introductions: parseEntries(boxed.introductions ?? []),
        };
      } catch (err) {
        throw new PairingError(
          'invalid',
          `The pairing payload could not be opened (${(err as Error).message}).`,
        );
      }
      const mine = ctx.settings.get().pairing;
      const clash = conflictOfPairs(mine.pairId, theirs.card.pairId);
      if (clash) throw new PairingError('conflict', clash);
      const pairId = mine.pairId ?? theirs.card.pairId ?? newPairId();
      const newcomer: PeerEntry = {
        id: inc.from.id,
        name: theirs.card.name,
        role: theirs.card.role,
        prio: theirs.card.prio,
        port: theirs.card.port,
        addresses: [inc.address],
        key: r.keys.pairKey.toString('base64'),
      };
      // Only the side that already has members introduces (the other side is the newcomer).
      const intros =
        theirs.card.pairId === null && mine.peers.some((p) => p.id !== newcomer.id)
          ? members.introductions(newcomer.id)
          : [];
      peers.upsert([newcomer, ...theirs.introductions], pairId);
      tally.lastError = null;
      ctx.store.notify({
        level: 'info',
        code: 'pairing_done',
        message: `Paired with ${newcomer.name}.`,
      });
      log.info('paired', {
        with: newcomer.name,
        pairId,
        introduced: theirs.introductions.length + intros.length,
      });
      joined();
      void members.announceNewcomer(newcomer, intros);
      return {
        mac: hmac(r.keys.confirmResponder, r.transcript).toString('base64'),
        box: seal(r.keys.boxResponder, { pairId, card: myCard(), introductions: intros }, aad),
      };
    },

    nonce(body) {
      const o = (body ?? {}) as Record<string, unknown>;
      if (typeof o.from !== 'string' || !peers.list().some((p) => p.id === o.from)) {
        tally.rejectedRequests++;
        publishSoon();
        throw new PairingError('unauthenticated', 'Not a paired host.');
      }
      const now = ctx.clock.now();
      for (const [n, v] of nonces) if (v.expires <= now) nonces.delete(n);
      while (nonces.size >= MAX_NONCES) nonces.delete(nonces.keys().next().value!);
      const nonce = randomBytes(16).toString('base64');
      nonces.set(nonce, { from: o.from, expires: now + NONCE_TTL_MS });
      return { nonce };
    },

    async rpc(body) {
      const o = (body ?? {}) as Record<string, unknown>;
      const reject = (why: string): never => {
        tally.rejectedRequests++;
        log.debug('peer request refused', { why });
        publishSoon();
        throw new PairingError('unauthenticated', 'Peer request refused.');
      };
      if (typeof o.from !== 'string' || typeof o.nonce !== 'string') return reject('malformed');
      const p = peers.list().find((x) => x.id === o.from);
      if (!p) return reject('not paired');
      const n = nonces.get(o.nonce);
      nonces.delete(o.nonce);
      if (!n || n.from !== p.id || n.expires <= ctx.clock.now())
        return reject('unknown or stale nonce');
      let msg: { op?: unknown; data?: unknown };
      try {
        msg = open(peers.keysOf(p).rpc, o.box, `${p.id}|${peers.me()}|${o.nonce}`) as typeof msg;
      } catch {
        return reject('bad box');
      }
      const data = (msg.data ?? {}) as Record<string, unknown>;
      switch (msg.op) {
        case 'introduce': {
          const pairId = typeof data.pairId === 'string' ? data.pairId : null;
          const mine = ctx.settings.get().pairing.pairId;
          if (!pairId || (mine && mine !== pairId))
            throw new PairingError('conflict', 'Introduced to another pair.');
          const [entry] = parseEntries([data.peer]);
          peers.upsert([entry!], pairId);
          log.info('a new member joined the pair', { name: entry!.name, via: p.name });
          ctx.store.notify({
            level: 'info',
            code: 'pairing_member',
            message: `${entry!.name} joined the pair (introduced by ${p.name}).`,
          });
          break;
        }
        case 'leave':
          peers.remove([p.id]);
          log.info('a peer left the pair', { name: p.name });
          ctx.store.notify({
            level: 'info',
            code: 'pairing_left',
            message: `${p.name} left the pair.`,
          });
          break;
        case 'remove': {
          const id = typeof data.id === 'string' ? data.id : '';
          if (id === peers.me()) {
            peers.remove(peers.list().map((x) => x.id));
            ctx.store.notify({
              level: 'info',
              code: 'pairing_removed',
              message: `${p.name} removed this computer from the pair.`,
            });
          } else if (peers.list().some((x) => x.id === id)) {
            const gone = peers.list().find((x) => x.id === id)!;
            peers.remove([id]);
            ctx.store.notify({
              level: 'info',
              code: 'pairing_left',
              message: `${p.name} removed ${gone.name} from the pair.`,
            });
          }
          break;
        }
        default:
          throw new PairingError('invalid', 'Unknown operation.');
      }
      return { ok: true };
    },
  };
}
