// A bare TCP relay for `npm run bench frontdoor`: each connection joined to one to the upstream,
// bytes copied both ways with no HTTP at all. It is the cheapest thing a process between client
// and program can be, so its figures beside the front door's show what any relay costs on this
// machine, apart from what the front door does.
//   node frontdoor-relay.mjs LISTEN_PORT UPSTREAM_PORT   (prints "ready" once listening)

import net from 'node:net';

const [, , listenPort, upstreamPort] = process.argv;
net
  .createServer({ noDelay: true }, (client) => {
    const up = net.connect({ port: Number(upstreamPort), host: '127.0.0.1', noDelay: true });
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  })
  .listen(Number(listenPort), '127.0.0.1', () => console.log('ready'));
