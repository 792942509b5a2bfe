// The front door's gateway on the control port: the OpenAI-style paths an app may call here instead
// of each service's own port (Android, and the server's own 11400 gateway). Open, not rate-limited:
// the front door applies the same LAN and key checks as on the service ports.

import type { FrontDoor } from '../../frontdoor/index.js';
import type { Route } from '../router.js';

export function frontDoorRoutes(fd: Pick<FrontDoor, 'gateway'>): Route[] {
  const to =
    (target: 'ollama' | 'tts' | 'whisper'): Route['handler'] =>
    ({ req, res, client }) => {
      fd.gateway(target, { req, res, client });
      return undefined;
    };
  return [
    {
      method: 'POST',
      path: '/v1/chat/completions',
      auth: false,
      unlimited: true,
      handler: to('ollama'),
    },
    { method: 'GET', path: '/v1/models', auth: false, unlimited: true, handler: to('ollama') },
    { method: 'POST', path: '/v1/audio/speech', auth: false, unlimited: true, handler: to('tts') },
    {
      method: 'POST',
      path: '/v1/audio/transcriptions',
      auth: false,
      unlimited: true,
      handler: to('whisper'),
    },
  ];
}
