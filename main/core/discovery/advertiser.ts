// Advertising `_unamentis._tcp` with @homebridge/ciao: probing with RFC 6762 §9 renames, TXT updates
// without a goodbye, goodbyes on stop, and an explicit interface list (see README.md for why ciao
// and not bonjour-service's publisher). The decisions (what TXT, when, which interfaces) are made by
// the caller; this file only drives the library, and paces TXT updates (advertiser-pacing.ts: never
// two different records on the wire less than a second apart, RFC 6762 §10.2).

import { getResponder, type CiaoService, type Responder } from './ciao.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/logger.js';
import { TxtPacer, type CiaoPhase, type PacedTarget } from './advertiser-pacing.js';
import { SERVICE_TYPE, type TxtRecord } from './txt.js';

export interface AdvertiseSpec {
  /** The instance name we would like (the display name). */
  name: string;
  port: number;
  txt: TxtRecord;
  /** Interface names; never empty (ciao would fall back to every interface). */
  interfaces: string[];
  /** Also publish AAAA records. Off by default: the app builds `http://host:port` without brackets. */
  ipv6?: boolean;
}

export interface Advertiser {
  /** Probes, renames on conflict, announces. Resolves with the name actually announced. */
  start(spec: AdvertiseSpec): Promise<string>;
  /**
   * Re-announces the TXT record (no goodbye in between): at once after a quiet spell; a change within
   * ~1 s of the last one is held and coalesced with later ones (see advertiser-pacing.ts).
   */
  updateTxt(txt: TxtRecord): void;
  /** Sends goodbye (TTL 0) records and releases the sockets. Safe to call when not started. */
  stop(): Promise<void>;
  /** The name in use after a conflict rename (also fires for renames after the first announcement). */
  onNameChange(listener: (name: string) => void): Unsubscribe;
}

export type AdvertiserFactory = (logger: Logger) => Advertiser;

/** Each step of a stop is bounded: quitting must never hang on the network. */
const STEP_TIMEOUT_MS = 2_000;

/**
 * `clock` paces TXT updates: it must be the wall clock (mDNS receivers apply RFC 6762's one second in
 * real time), never the core's clock, which the soak run accelerates.
 */
export function ciaoAdvertiser(logger: Logger, clock: Clock = systemClock): Advertiser {
  const events = new Emitter<{ name: string }>((err) =>
    logger.error('name-change listener failed', { err }),
  );
  let responder: Responder | null = null;
  let service: CiaoService | null = null;
  let pacer: TxtPacer | null = null;

  return {
    async start(spec) {
      if (service) throw new Error('advertiser already started');
      if (spec.interfaces.length === 0) throw new Error('no interface to advertise on');
      // IPv4 is what the phone needs: the app takes the first address that resolves and builds
      // `http://host:port` without IPv6 brackets, so AAAA records only when asked for (discovery.ipv6).
      responder = getResponder({ interface: spec.interfaces });
      const svc = responder.createService({
        name: spec.name,
        type: SERVICE_TYPE,
        port: spec.port,
        txt: spec.txt,
        restrictedAddresses: spec.interfaces,
        disabledIpv6: spec.ipv6 !== true,
      });
      service = svc;
      const paced = new TxtPacer(spec.txt, ciaoTarget(svc), clock, { logger });
      pacer = paced;
      svc.on('name-change', (name: string) => {
        logger.info('mDNS name conflict: renamed', { name });
        events.emit('name', name);
      });
      await svc.advertise();
      paced.announced();
      return svc.getFQDN().replace(/\._unamentis\._tcp\.local\.?$/i, '');
    },
    updateTxt(txt) {
      if (service && !service.isDestroyed()) pacer?.want(txt);
    },
    async stop() {
      const svc = service;
      const r = responder;
      if (pacer) {
        const { changes, repeats, skipped } = pacer.counts;
        if (skipped)
          logger.info('TXT updates coalesced (RFC 6762 §10.2 pacing)', {
            sent: changes,
            repeats,
            skipped,
          });
        pacer.stop();
      }
      pacer = null;
      service = null;
      responder = null;
      if (svc) {
        await bounded(svc.end(), 'goodbye', logger);
        await bounded(svc.destroy(), 'destroy', logger);
      }
      if (r) await bounded(r.shutdown(), 'shutdown', logger);
    },
    onNameChange: (listener) => events.on('name', listener),
  };
}

/**
 * ciao 1.3.12 seen through what the pacer needs. `serviceState` and `currentAnnouncer` are typed
 * fields of CiaoService that ciao marks as internal (the version is pinned): probing and goodbyes
 * hold the record for later, announcements carry whatever record ciao has when each is built.
 */
function ciaoTarget(svc: CiaoService): PacedTarget {
  const finished = new WeakSet<object>();
  const phase = (): CiaoPhase => {
    const state = svc.serviceState as string;
    if (state === 'announced') return 'announced';
    if (state !== 'announcing') return 'holding';
    const a = svc.currentAnnouncer;
    if (!a || finished.has(a)) return 'announced';
    if (a.isSendingGoodbye()) return 'holding';
    return a.hasSentLastAnnouncement() ? 'closing' : 'announcing';
  };
  return {
    phase,
    updateTxt: (txt) => {
      if (!svc.isDestroyed()) svc.updateTxt(txt);
    },
    afterAnnouncements(done) {
      const a = svc.currentAnnouncer;
      if (!a) return void setImmediate(done);
      const after = () => {
        finished.add(a);
        done();
      };
      a.awaitAnnouncement().then(after, after);
    },
  };
}

async function bounded(p: Promise<void>, what: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms`)),
          STEP_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    logger.warn(`mDNS ${what} failed`, { err });
  } finally {
    clearTimeout(timer);
  }
}
