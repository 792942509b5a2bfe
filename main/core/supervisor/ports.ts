// Is a port free before we spawn? A connect tells whether something listens where we will reach
// the service; a trial bind on the child's own address catches a holder on another interface.

import net from 'node:net';

export type PortState = 'free' | 'in-use';

function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (open: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(open);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // a silent localhost port is held by something
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tryBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code !== 'EADDRINUSE' && err.code !== 'EACCES'),
    );
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function probePort(
  connectHost: string,
  bindHost: string,
  port: number,
  timeoutMs = 1000,
): Promise<PortState> {
  if (await tryConnect(connectHost, port, timeoutMs)) return 'in-use';
  return (await tryBind(bindHost, port)) ? 'free' : 'in-use';
}

/** Resolves true once nothing accepts connections on the port (or false after `timeoutMs`). */
export async function waitPortFree(
  connectHost: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await tryConnect(connectHost, port, 500))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
