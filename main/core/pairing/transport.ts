// The heartbeat socket: UDP on the control port number (the API is TCP on the same number), bound to
// the API's address. Datagrams are small and independent: a lost one is simply the next second's.

import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface Datagrams {
  send(buf: Buffer, port: number, address: string): void;
  close(): Promise<void>;
}

export async function openDatagrams(
  bind: { address: string; port: number },
  onMessage: (buf: Buffer, from: { address: string; port: number }) => void,
  onError: (err: Error) => void,
): Promise<Datagrams> {
  const v6 = isIPv6(bind.address);
  const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4' });
  sock.on('message', (buf, rinfo) =>
    onMessage(buf, { address: unmap(rinfo.address), port: rinfo.port }),
  );
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port: bind.port, address: bind.address, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', onError);
  let closed = false;
  return {
    send(buf, port, address) {
      if (closed) return;
      // A v4 socket cannot reach a v6 peer address and vice versa; skip rather than fail.
      if (v6 ? !isIPv6(address) && !isIPv4(address) : !isIPv4(address)) return;
      const to = v6 && isIPv4(address) ? `::ffff:${address}` : address;
      sock.send(buf, port, to, (err) => {
        if (err) onError(err);
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((r) => sock.close(() => r()));
    },
  };
}

/** `::ffff:10.0.0.2` → `10.0.0.2` */
export function unmap(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
