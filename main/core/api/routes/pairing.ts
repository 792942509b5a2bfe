// Pairing on the control port.
// Local (token-gated, through the command bus): the pairing status with the code to show, start a
// pairing with a discovered host, type the code, cancel, unpair, stop/resume serving.
// Peer-facing (open to the LAN, `pairing` rate class): the handshake (`request`, `finish`) and the
// authenticated peer operations (`peer/nonce`, `peer`); see main/core/pairing/README.md.

import type { ErrorCode } from '../../contract.js';
import { badRequest, HttpError } from '../errors.js';
import type { Route } from '../router.js';
import type { CoreContext } from '../../context.js';
import type { PairingControl } from '../../pairing/index.js';
import { PairingError, type PairingErrorKind } from '../../pairing/errors.js';

/** Pairing's errors as the contract names them (docs/api.md); the other host's own error passes on as it came. */
const CODE: Record<Exclude<PairingErrorKind, 'peer'>, ErrorCode> = {
  invalid: 'bad_request',
  unauthenticated: 'unauthorized',
  locked: 'forbidden',
  unknown: 'not_found',
  conflict: 'conflict',
  unreachable: 'timeout',
  failed: 'internal',
};

export function httpOf(e: PairingError): HttpError {
  if (e.kind === 'peer' && e.peer)
    return new HttpError(e.peer.code, e.message, e.field, e.peer.status);
  return new HttpError(e.kind === 'peer' ? 'internal' : CODE[e.kind], e.message, e.field);
}

/** Every pairing route answers pairing's errors in the contract's form. */
const mapped = (route: Route): Route => ({
  ...route,
  handler: async (ctx) => {
    try {
      return await route.handler(ctx);
    } catch (err) {
      throw err instanceof PairingError ? httpOf(err) : err;
    }
  },
});

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function pairingRoutes(core: CoreContext, pairing: PairingControl): Route[] {
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/api/pairing',
      auth: true,
      handler: () => ({ status: 200, body: pairing.status() }),
    },
    {
      method: 'POST',
      path: '/api/pairing/start',
      auth: true,
      handler: async (ctx) => {
        const b = obj(await ctx.body());
        const id = b.id;
        const address = b.address;
        const port = b.port;
        if (id !== undefined && typeof id !== 'string')
          throw badRequest('id must be a host id', 'id');
        if (address !== undefined && typeof address !== 'string')
          throw badRequest('address must be a string', 'address');
        if (
          port !== undefined &&
          (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        )
          throw badRequest('port must be 1-65535', 'port');
        if (!id && !(address && port))
          throw badRequest('Give the id of a discovered host, or an address and a port.');
        const result = await core.commands.execute({
          type: 'pairing.start',
          ...(id ? { id } : {}),
          ...(address ? { address } : {}),
          ...(port ? { port: port as number } : {}),
        });
        return { status: 202, body: result };
      },
    },
    {
      method: 'POST',
      path: '/api/pairing/confirm',
      auth: true,
      handler: async (ctx) => {
        const b = obj(await ctx.body());
        if (typeof b.code !== 'string')
          throw badRequest('code must be the 6 digits the other host shows', 'code');
        return {
          status: 200,
          body: await core.commands.execute({ type: 'pairing.confirm', code: b.code }),
        };
      },
    },
    {
      method: 'POST',
      path: '/api/pairing/cancel',
      auth: true,
      handler: async () => {
        await core.commands.execute({ type: 'pairing.cancel' });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/pairing/unpair',
      auth: true,
      handler: async (ctx) => {
        const b = obj(await ctx.body());
        if (b.id !== undefined && typeof b.id !== 'string')
          throw badRequest('id must be a paired host id', 'id');
        const result = await core.commands.execute({
          type: 'pairing.unpair',
          ...(typeof b.id === 'string' ? { id: b.id } : {}),
        });
        return { status: 200, body: result };
      },
    },
    {
      method: 'POST',
      path: '/api/serving/stop',
      auth: true,
      handler: async () => {
        await core.commands.execute({ type: 'serving.stop' });
        return { status: 200, body: core.store.get('host') };
      },
    },
    {
      method: 'POST',
      path: '/api/serving/resume',
      auth: true,
      handler: async () => {
        await core.commands.execute({ type: 'serving.resume' });
        return { status: 200, body: core.store.get('host') };
      },
    },

    // Peer-facing: no token (the other host has none of ours); authenticated by the protocol itself.
    {
      method: 'POST',
      path: '/api/pairing/request',
      auth: false,
      rate: 'pairing',
      handler: async (ctx) => ({
        status: 202,
        body: await pairing.peerApi.request(await ctx.body(), ctx.client),
      }),
    },
    {
      method: 'POST',
      path: '/api/pairing/finish',
      auth: false,
      rate: 'pairing',
      handler: async (ctx) => ({
        status: 200,
        body: await pairing.peerApi.finish(await ctx.body(), ctx.client),
      }),
    },
    {
      method: 'POST',
      path: '/api/pairing/peer/nonce',
      auth: false,
      rate: 'pairing',
      handler: async (ctx) => ({
        status: 200,
        body: pairing.peerApi.nonce(await ctx.body(), ctx.client),
      }),
    },
    {
      method: 'POST',
      path: '/api/pairing/peer',
      auth: false,
      rate: 'pairing',
      handler: async (ctx) => ({
        status: 200,
        body: await pairing.peerApi.rpc(await ctx.body(), ctx.client),
      }),
    },
  ];
  return routes.map(mapped);
}
