// `npm run demo`: a DEMO for contributors, never a shipped default. The headless server with the
// fake Ollama / VibeVoice / Piper from test/fixtures as its services and the fake nvidia-smi (one
// RTX 3060) as its GPU, on 127.0.0.1 and not announced on the LAN, in a throwaway data dir: the
// dashboard shows every panel healthy with no GPU and no AI servers installed.
// Usage: npm run demo [-- --port N]     Stop with Ctrl+C (the temp folders are removed).

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { buildIfStale, repoRoot } from './build-if-stale.mjs';
import { npmWentAway, stopWhenNpmGoesAway } from './npm-parent.mjs';
import {
  gpuEnv,
  gpuOut,
  lspciOut,
  siOut,
  writeGpuScenario,
  type FakeGpu,
} from '../test/fixtures/bin/scenario.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const fixtures = path.join(repoRoot, 'test', 'fixtures');
const GPU: FakeGpu = {
  index: 0,
  name: 'NVIDIA GeForce RTX 3060 (demo)',
  totalMB: 12288,
  usedMB: 6100,
  util: 37,
  tempC: 54,
  powerW: 92.5,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

if (buildIfStale() !== 0) process.exit(1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-demo-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const dataDir = path.join(root, 'data');
const gpuDir = path.join(root, 'gpu');
fs.mkdirSync(dataDir);
writeGpuScenario(gpuDir, {
  gpu: { out: gpuOut([GPU]) },
  si: { out: siOut([GPU]) },
  apps: { out: '' },
  lspci: lspciOut([GPU]),
});

const node = process.execPath;
const ports = { ollama: await freePort(), vibevoice: await freePort(), piper: await freePort() };
const settings = {
  displayName: 'Demo (fake services)',
  serveOnLan: false,
  discovery: { advertise: false, interfaces: [] },
  hibernation: { preventSleep: false },
  models: { preload: ['mistral:7b'] },
  services: {
    ollama: {
      command: node,
      args: [path.join(fixtures, 'fake-ollama.mjs'), 'serve'],
      port: ports.ollama,
    },
    vibevoice: {
      command: node,
      args: [
        path.join(fixtures, 'fake-vibevoice.mjs'),
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.vibevoice),
        '--device',
        'cpu',
        '--model-path',
        'microsoft/VibeVoice-Realtime-0.5B',
      ],
      port: ports.vibevoice,
      cwd: fixtures,
      options: { script: path.join(fixtures, 'fake-vibevoice.mjs') },
    },
    piper: {
      command: node,
      args: [
        path.join(fixtures, 'fake-piper.mjs'),
        '-m',
        'en_US-amy-medium',
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.piper),
      ],
      port: ports.piper,
    },
    whisper: { enabled: false },
  },
};
fs.writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(settings, null, 2));

// The server reads these as it starts (the fake nvidia-smi first on PATH, mDNS kept on loopback).
Object.assign(process.env, gpuEnv(gpuDir), { UNAMENTIS_MDNS_INTERFACES: 'lo' });
process.argv = [
  process.argv[0]!,
  'unamentis-server',
  '--data-dir',
  dataDir,
  '--port',
  values.port!,
  '--bind',
  '127.0.0.1',
];
console.log(
  'DEMO: fake Ollama, VibeVoice, Piper and GPU from test/fixtures; not a real server. Ctrl+C stops it.',
);
if (npmWentAway()) process.exit(0); // stopped while building
stopWhenNpmGoesAway();
await import(pathToFileURL(path.join(repoRoot, 'dist/main/headless.js')).href);
