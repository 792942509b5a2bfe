// @homebridge/ciao without its side effect on the whole process. Its entry point runs
// `require("source-map-support/register")`, which replaces Error.prepareStackTrace: from then on every
// Error whose stack is read anywhere in the app (undici reads one for each connection it drops) is
// mapped through .js.map files frame by frame. In the steady core that was an eighth of all memory
// allocated. Ciao's own stack traces do not need it, so the formatter in place before is put back.
// The import order matters: ciao-before.js is evaluated first.
//
// Every packet ciao's sockets receive passes `ciaoGate` (mdns-guard.ts) before ciao decodes it: ciao
// 1.3.12 decodes names recursively with no length limit (issue #20: one packet held the loop 230 ms).
// The hook wraps `MDNSServer.prototype.handleMessage`, the one place its sockets deliver to (checked at
// load; the version is pinned in package.json), rather than a patched copy of the library.

import { prepareStackTraceBeforeCiao } from './ciao-before.js';
import { getResponder } from '@homebridge/ciao';
import { createRequire } from 'node:module';
import { MdnsGate, mdnsGuardOn } from './mdns-guard.js';

export type { CiaoService, Responder } from '@homebridge/ciao';

Error.prepareStackTrace = prepareStackTraceBeforeCiao;

/** Drops counted by reason (`rate`, `name too long`, …); shared by every responder of the process. */
export const ciaoGate = new MdnsGate();

type HandleMessage = (
  this: unknown,
  name: string,
  buffer: Buffer,
  rinfo: { address: string },
  family: string,
) => void;
const { MDNSServer } = createRequire(import.meta.url)('@homebridge/ciao/lib/MDNSServer.js') as {
  MDNSServer?: { prototype: { handleMessage?: HandleMessage & { guarded?: true } } };
};
const original = MDNSServer?.prototype.handleMessage;
if (typeof original !== 'function') {
  throw new Error(
    '@homebridge/ciao has no MDNSServer.prototype.handleMessage (its internals changed; 1.3.12 is pinned)',
  );
}
if (!original.guarded && mdnsGuardOn()) {
  const guarded: HandleMessage & { guarded?: true } = function (
    this: unknown,
    name,
    buffer,
    rinfo,
    family,
  ) {
    if (ciaoGate.check(buffer, rinfo.address) !== 'ok') return;
    original.call(this, name, buffer, rinfo, family);
  };
  guarded.guarded = true;
  MDNSServer!.prototype.handleMessage = guarded;
}

export { getResponder };
