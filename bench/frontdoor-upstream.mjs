// A minimal upstream for `npm run bench frontdoor`: what a service behind the front door would
// answer, with no work of its own, so the bench sees only what the front door adds.
//   node frontdoor-upstream.mjs HOST PORT      (START_DELAY_MS: wait before listening)
//   GET /small → 11-byte JSON · GET /wav → 5 MB audio/wav · POST /stream?n=N&ms=M → N SSE events M ms apart

import http from 'node:http';

const [, , host, port] = process.argv;
const wav = Buffer.alloc(5 * 1024 * 1024, 1);
wav.write('RIFF', 0);
setTimeout(
  () => {
    http
      .createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/small') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
          return res.end('{"ok":true}');
        }
        if (url.pathname === '/wav') {
          res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
          return res.end(wav);
        }
        if (url.pathname === '/stream') {
          req.resume();
          const n = Number(url.searchParams.get('n') ?? 5);
          const every = Number(url.searchParams.get('ms') ?? 0);
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let i = 0;
          const tick = () => {
            if (res.destroyed) return;
            if (i++ >= n) return res.end('data: [DONE]\n\n');
            res.write(`data: {"choices":[{"delta":{"content":"w${i}"}}]}\n\n`);
            setTimeout(tick, every);
          };
          return tick();
        }
        res.writeHead(404);
        res.end();
      })
      .listen(Number(port), host);
  },
  Number(process.env.START_DELAY_MS ?? 0),
);
