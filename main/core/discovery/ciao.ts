// @homebridge/ciao without its side effect on the whole process. Its entry point runs
// `require("source-map-support/register")`, which replaces Error.prepareStackTrace: from then on every
// Error whose stack is read anywhere in the app (undici reads one for each connection it drops) is
// mapped through .js.map files frame by frame. In the steady core that was an eighth of all memory
// allocated. Ciao's own stack traces do not need it, so the formatter in place before is put back.
// The import order matters: ciao-before.js is evaluated first.

import { prepareStackTraceBeforeCiao } from './ciao-before.js';
import { getResponder } from '@homebridge/ciao';

export type { CiaoService, Responder } from '@homebridge/ciao';

Error.prepareStackTrace = prepareStackTraceBeforeCiao;

export { getResponder };
