// The three setup steps as lists of phases. Each phase does one thing through SetupIO, records
// what it made in `facts`, and names the exact command that does the same by hand. A finished
// phase is skipped when a step runs again (after a failure, a cancel, a quit or a crash), and
// every phase first checks whether its result is already there.

import fs from 'node:fs';
import path from 'node:path';
import { answersHealthy, type ServiceEntry } from '../contract.js';
import type { Settings } from '../settings/index.js';
import type { SetupIO } from './io.js';
import type { StepId } from './state.js';
import type { Tier } from './tier.js';
import {
  DEFAULT_VOICE,
  PIPER_PACKAGE,
  PIPER_PYTHON,
  VIBEVOICE_PYTHON,
  ollamaAsset,
  sha256From,
  torchChoice,
  uvAsset,
  voicePath,
  type Sources,
} from './sources.js';
import { DownloadError, fmtBytes, freeBytes, DISK_MARGIN_BYTES } from './download.js';
import { presetFor } from '../services/presets.js';
import { OLLAMA_DEFAULT_PORT, ollamaBaseUrl } from '../services/ollama.js';

export interface PhaseContext {
  io: SetupIO;
  sources: Sources;
  dataDir: string;
  platform: NodeJS.Platform;
  arch: string;
  home: string;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  tier: Tier;
  gpuVendors: string[];
  facts: Record<string, string>;
  progress(label: string, received: number, total: number | null): void;
  line(text: string): void;
  settings(): Settings;
  updateSettings(patch: unknown): void;
  service(id: string): ServiceEntry | undefined;
  /** Starts (or restarts, when its settings changed) a service and waits until it is healthy. */
  startService(id: string, timeoutMs: number): Promise<void>;
}

interface Phase {
  key: string;
  label: string;
  /** Runs every time (a look at what is there), never recorded as done. */
  always?: boolean;
  manual(c: PhaseContext): string;
  run(c: PhaseContext): Promise<void>;
}

export interface StepDef {
  id: StepId;
  name: string;
  phases: Phase[];
}

const exe = (c: { platform: NodeJS.Platform }, name: string) =>
  c.platform === 'win32' ? `${name}.exe` : name;
const venvPython = (c: PhaseContext, venv: string) =>
  c.platform === 'win32'
    ? path.join(venv, 'Scripts', 'python.exe')
    : path.join(venv, 'bin', 'python');
const q = (s: string) => (/[\s"']/.test(s) ? `"${s}"` : s);

/** uv keeps its Pythons and cache in the app's folder too: nothing lands in the user's own Python. */
function uvEnv(c: PhaseContext): Record<string, string> {
  return {
    UV_PYTHON_INSTALL_DIR: path.join(c.dataDir, 'python', 'interpreters'),
    UV_CACHE_DIR: path.join(c.dataDir, 'cache', 'uv'),
    UV_NO_PROGRESS: '1',
  };
}

/** Extracts an archive with the OS's own tar (GNU tar on Linux, bsdtar on macOS and Windows 10+, which also reads zip). */
async function extract(c: PhaseContext, archive: string, dest: string, strip = 0): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  const tar =
    c.platform === 'win32'
      ? (c.io.findProgram([
          path.join(c.env.SystemRoot ?? 'C:\\Windows', 'System32', 'tar.exe'),
          'tar',
        ]) ?? 'tar')
      : 'tar';
  await c.io.run(
    tar,
    ['-xf', archive, '-C', dest, ...(strip ? [`--strip-components=${strip}`] : [])],
    { signal: c.signal, onLine: c.line },
  );
}

async function fetchFile(
  c: PhaseContext,
  label: string,
  url: string,
  dest: string,
  checksum: { algorithm: 'sha256' | 'md5'; hex: string } | null,
  size?: number,
): Promise<void> {
  await c.io.download({
    url,
    dest,
    checksum,
    ...(size ? { expectedBytes: size } : {}),
    signal: c.signal,
    onProgress: (p) => c.progress(label, p.received, p.total),
  });
}

// ── uv (Piper and VibeVoice) ──────────────────────────────────────────────────────────────────

const uvPhase: Phase = {
  key: 'uv',
  label: 'Getting uv (the Python environment tool)',
  // Cheap when it is there; and a uv found on PATH may since have been removed.
  always: true,
  manual: (c) =>
    c.platform === 'win32'
      ? 'powershell -ExecutionPolicy ByPass -c "irm https://astral.sh/uv/install.ps1 | iex"'
      : 'curl -LsSf https://astral.sh/uv/install.sh | sh',
  async run(c) {
    const own = path.join(c.dataDir, 'tools', exe(c, 'uv'));
    const found = c.io.findProgram([own, 'uv']);
    if (found) {
      c.facts.uv = found;
      c.line(`uv: ${found}`);
      return;
    }
    const asset = uvAsset(c.platform, c.arch);
    const sums = await c.io.fetchText(`${c.sources.uvRelease}/${asset}.sha256`, c.signal);
    const hex = sha256From(sums, asset);
    if (!hex) throw new Error(`${asset}.sha256 does not list ${asset}`);
    const archive = path.join(c.dataDir, 'downloads', asset);
    await fetchFile(c, 'uv', `${c.sources.uvRelease}/${asset}`, archive, {
      algorithm: 'sha256',
      hex,
    });
    const tmp = path.join(c.dataDir, 'tools', 'uv-unpack');
    fs.rmSync(tmp, { recursive: true, force: true });
    await extract(c, archive, tmp);
    const bin = findFile(tmp, exe(c, 'uv'));
    if (!bin) throw new Error(`${asset} has no ${exe(c, 'uv')} in it`);
    fs.renameSync(bin, own);
    fs.chmodSync(own, 0o755);
    fs.rmSync(tmp, { recursive: true, force: true });
    c.facts.uv = own;
    c.line(`uv installed: ${own}`);
  },
};

function findFile(dir: string, name: string): string | null {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    }
  }
  return null;
}

function venvPhase(key: string, folder: string, python: string): Phase {
  const venv = (c: PhaseContext) => path.join(c.dataDir, 'python', folder);
  return {
    key,
    label: `Making the Python ${python} environment`,
    manual: (c) => `uv venv ${q(venv(c))} --python ${python}`,
    async run(c) {
      const py = venvPython(c, venv(c));
      if (!fs.existsSync(py)) {
        await c.io.run(c.facts.uv!, ['venv', venv(c), '--python', python], {
          env: uvEnv(c),
          signal: c.signal,
          onLine: c.line,
        });
      }
      if (!fs.existsSync(py)) throw new Error(`uv made no Python at ${py}`);
      c.facts.python = py;
    },
  };
}

function pipPhase(key: string, label: string, args: (c: PhaseContext) => string[]): Phase {
  return {
    key,
    label,
    manual: (c) =>
      `uv pip install --python ${q(c.facts.python ?? 'PYTHON')} ${args(c).map(q).join(' ')}`,
    async run(c) {
      await c.io.run(c.facts.uv!, ['pip', 'install', '--python', c.facts.python!, ...args(c)], {
        env: uvEnv(c),
        signal: c.signal,
        onLine: c.line,
      });
    },
  };
}

// ── Ollama ────────────────────────────────────────────────────────────────────────────────────

function ollamaCandidates(c: PhaseContext): string[] {
  const configured = c.settings().services.ollama?.command;
  const preset = presetFor('ollama')!;
  const fromPreset = preset.commands({
    platform: c.platform,
    home: c.home,
    env: c.env,
    host: '127.0.0.1',
    port: OLLAMA_DEFAULT_PORT,
    options: {},
  });
  return [
    ...(configured ? [configured] : []),
    ...fromPreset,
    path.join(c.dataDir, 'ollama', 'bin', 'ollama'),
    path.join(c.dataDir, 'ollama', 'Ollama.app', 'Contents', 'Resources', 'ollama'),
  ];
}

const ollamaManual = (c: PhaseContext) =>
  c.platform === 'win32'
    ? 'winget install --id Ollama.Ollama -e'
    : c.platform === 'darwin'
      ? 'brew install ollama'
      : 'curl -fsSL https://ollama.com/install.sh | sh';

const OLLAMA: StepDef = {
  id: 'ollama',
  name: 'Ollama',
  phases: [
    {
      key: 'find',
      label: 'Looking for an Ollama already here',
      always: true,
      manual: () => 'ollama --version',
      async run(c) {
        const e = c.service('ollama');
        if (e && answersHealthy(e)) {
          c.facts.adopted =
            e.status === 'external'
              ? 'the Ollama already running on this machine'
              : 'the Ollama this app runs';
          c.line(`Using ${c.facts.adopted} (port ${e.port}).`);
          return;
        }
        const found = c.io.findProgram(ollamaCandidates(c));
        if (found) {
          c.facts.command = found;
          c.line(`Found Ollama at ${found}.`);
        }
      },
    },
    {
      key: 'install',
      label: 'Installing Ollama',
      manual: ollamaManual,
      async run(c) {
        if (c.facts.adopted || (c.facts.command && fs.existsSync(c.facts.command))) return;
        if (c.platform === 'win32' && c.io.findProgram(['winget'])) {
          await c.io.run(
            'winget',
            [
              'install',
              '--id',
              'Ollama.Ollama',
              '-e',
              '--silent',
              '--accept-package-agreements',
              '--accept-source-agreements',
              '--disable-interactivity',
            ],
            {
              signal: c.signal,
              onLine: c.line,
            },
          );
        } else if (
          c.platform === 'darwin' &&
          c.io.findProgram(['brew', '/opt/homebrew/bin/brew', '/usr/local/bin/brew'])
        ) {
          await c.io.run(
            c.io.findProgram(['brew', '/opt/homebrew/bin/brew', '/usr/local/bin/brew'])!,
            ['install', 'ollama'],
            { signal: c.signal, onLine: c.line },
          );
        } else {
          const asset = ollamaAsset(c.platform, c.arch);
          const sums = await c.io.fetchText(`${c.sources.ollamaRelease}/sha256sum.txt`, c.signal);
          const hex = sha256From(sums, asset);
          if (!hex) throw new Error(`sha256sum.txt does not list ${asset}`);
          const file = path.join(c.dataDir, 'downloads', asset);
          await fetchFile(c, asset, `${c.sources.ollamaRelease}/${asset}`, file, {
            algorithm: 'sha256',
            hex,
          });
          const dest = path.join(c.dataDir, 'ollama');
          if (c.platform === 'win32') {
            // Ollama's Windows installer (Inno Setup) installs per user, without a UAC prompt.
            await c.io.run(file, ['/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART'], {
              signal: c.signal,
              onLine: c.line,
            });
          } else if (c.platform === 'darwin') {
            fs.mkdirSync(dest, { recursive: true });
            await c.io.run('ditto', ['-x', '-k', file, dest], { signal: c.signal, onLine: c.line });
          } else {
            await extract(c, file, dest);
          }
        }
        const found = c.io.findProgram(ollamaCandidates(c));
        if (!found)
          throw new Error('the installer finished, but no ollama program is where it puts one');
        c.facts.command = found;
        c.facts.installed = '1';
        c.line(`Ollama installed: ${found}`);
      },
    },
    {
      key: 'start',
      label: 'Starting Ollama',
      always: true,
      manual: (c) => `${q(c.facts.command ?? 'ollama')} serve`,
      async run(c) {
        if (!c.facts.adopted && c.facts.command) {
          const onPath = c.io.findProgram(['ollama']) === c.facts.command;
          if (!onPath && c.settings().services.ollama?.command !== c.facts.command)
            c.updateSettings({ services: { ollama: { command: c.facts.command } } });
        }
        if (c.settings().services.ollama?.enabled === false)
          c.updateSettings({ services: { ollama: { enabled: true } } });
        await c.startService('ollama', 120_000);
      },
    },
    {
      key: 'models',
      label: 'Downloading the model',
      manual: (c) => `ollama pull ${c.tier.model}`,
      async run(c) {
        const e = c.service('ollama');
        const base = ollamaBaseUrl({ port: e?.port });
        const model = c.tier.model;
        await c.io.pull(
          base,
          model,
          (p) => {
            if (typeof p.total === 'number' && p.total > 0)
              c.progress(`${model}: ${p.status}`, p.completed ?? 0, p.total);
            else c.line(`${model}: ${p.status}`);
          },
          c.signal,
        );
        c.updateSettings({ models: { preload: [model] } });
        c.line(`${model} is installed and will be loaded at start.`);
      },
    },
  ],
};

// ── Piper ─────────────────────────────────────────────────────────────────────────────────────

const voicesDir = (c: PhaseContext) => path.join(c.dataDir, 'voices');

const PIPER: StepDef = {
  id: 'piper',
  name: 'Piper',
  phases: [
    uvPhase,
    venvPhase('venv', 'piper', PIPER_PYTHON),
    pipPhase('packages', `Installing ${PIPER_PACKAGE}`, (c) => [
      '--index-url',
      c.sources.pypiIndex,
      PIPER_PACKAGE,
    ]),
    {
      key: 'voice',
      label: `Downloading the voice ${DEFAULT_VOICE}`,
      manual: (c) =>
        `${q(c.facts.python ?? 'python')} -m piper.download_voices ${DEFAULT_VOICE} --download-dir ${q(voicesDir(c))}`,
      async run(c) {
        // voices.json lists every file of the repository with its size and md5 (what piper.download_voices reads).
        const index = JSON.parse(
          await c.io.fetchText(`${c.sources.piperVoices}/voices.json`, c.signal),
        ) as Record<
          string,
          { files?: Record<string, { size_bytes?: number; md5_digest?: string }> }
        >;
        const files = index[DEFAULT_VOICE]?.files ?? {};
        const base = `${voicePath(DEFAULT_VOICE)}/${DEFAULT_VOICE}`;
        for (const suffix of ['.onnx', '.onnx.json']) {
          const rel = base + suffix;
          const meta = files[rel];
          await fetchFile(
            c,
            `${DEFAULT_VOICE}${suffix}`,
            `${c.sources.piperVoices}/${rel}`,
            path.join(voicesDir(c), DEFAULT_VOICE + suffix),
            meta?.md5_digest ? { algorithm: 'md5', hex: meta.md5_digest } : null,
            meta?.size_bytes,
          );
        }
      },
    },
    {
      key: 'start',
      label: 'Starting Piper',
      always: true,
      manual: (c) =>
        `${q(c.facts.python ?? 'python')} -m piper.http_server -m ${DEFAULT_VOICE} --data-dir ${q(voicesDir(c))} --port 11402`,
      async run(c) {
        c.updateSettings({
          services: {
            piper: {
              enabled: true,
              command: c.facts.python!,
              options: { voice: DEFAULT_VOICE, dataDir: voicesDir(c) },
            },
          },
        });
        await c.startService('piper', 120_000);
      },
    },
  ],
};

// ── VibeVoice ─────────────────────────────────────────────────────────────────────────────────

const vvDir = (c: PhaseContext) => path.join(c.dataDir, 'vibevoice', 'server');
const vvModelDir = (c: PhaseContext) => path.join(c.dataDir, 'models', 'VibeVoice-Realtime-0.5B');

interface TreeEntry {
  type: string;
  path: string;
  size?: number;
  lfs?: { oid?: string; size?: number };
}

const VIBEVOICE: StepDef = {
  id: 'vibevoice',
  name: 'VibeVoice',
  phases: [
    uvPhase,
    {
      key: 'source',
      label: 'Downloading the VibeVoice server',
      manual: (c) =>
        `git clone https://github.com/marhensa/vibevoice-realtime-openai-api.git ${q(vvDir(c))}`,
      async run(c) {
        const archive = path.join(c.dataDir, 'downloads', 'vibevoice-server.tar.gz');
        // GitHub publishes no checksum for a source archive: none to check.
        await fetchFile(c, 'VibeVoice server', c.sources.vibevoiceSource, archive, null);
        fs.rmSync(vvDir(c), { recursive: true, force: true });
        await extract(c, archive, vvDir(c), 1);
        if (!fs.existsSync(path.join(vvDir(c), 'vibevoice_realtime_openai_api.py')))
          throw new Error('the archive has no vibevoice_realtime_openai_api.py');
      },
    },
    venvPhase('venv', 'vibevoice', VIBEVOICE_PYTHON),
    pipPhase('torch', 'Installing PyTorch for this GPU', (c) => [
      '--index-url',
      torchChoice(c.platform, c.arch, c.gpuVendors, c.sources).index,
      'torch',
    ]),
    pipPhase('requirements', "Installing the server's requirements", (c) => [
      '--index-url',
      c.sources.pypiIndex,
      '-r',
      path.join(vvDir(c), 'requirements.txt'),
    ]),
    {
      key: 'model',
      label: 'Downloading the VibeVoice model (about 2 GB)',
      manual: (c) =>
        `uvx hf download microsoft/VibeVoice-Realtime-0.5B --local-dir ${q(vvModelDir(c))}`,
      async run(c) {
        const tree = (
          JSON.parse(await c.io.fetchText(c.sources.vibevoiceModelTree, c.signal)) as TreeEntry[]
        ).filter((e) => e.type === 'file');
        const dest = (e: TreeEntry) => path.join(vvModelDir(c), ...e.path.split('/'));
        const sizeOf = (e: TreeEntry) => e.lfs?.size ?? e.size ?? 0;
        const total = tree.reduce((s, e) => s + sizeOf(e), 0);
        const have = (e: TreeEntry) =>
          fs.existsSync(dest(e))
            ? sizeOf(e)
            : fs.existsSync(`${dest(e)}.part`)
              ? fs.statSync(`${dest(e)}.part`).size
              : 0;
        const left = total - tree.reduce((s, e) => s + have(e), 0);
        fs.mkdirSync(vvModelDir(c), { recursive: true });
        const free = await freeBytes(vvModelDir(c));
        if (left + DISK_MARGIN_BYTES > free) {
          throw new DownloadError(
            'disk_space',
            `Not enough disk space in ${vvModelDir(c)}: ${fmtBytes(left)} to download (and ${fmtBytes(DISK_MARGIN_BYTES)} to spare), ${fmtBytes(free)} free.`,
          );
        }
        let before = 0;
        for (const e of tree) {
          const start = before;
          await c.io.download({
            url: `${c.sources.vibevoiceModelFiles}/${e.path.split('/').map(encodeURIComponent).join('/')}`,
            dest: dest(e),
            // Hugging Face lists each large (LFS) file's sha256.
            checksum: e.lfs?.oid ? { algorithm: 'sha256', hex: e.lfs.oid } : null,
            expectedBytes: sizeOf(e) || null,
            signal: c.signal,
            onProgress: (p) => c.progress('VibeVoice model', start + p.received, total),
          });
          before += sizeOf(e);
        }
      },
    },
    {
      key: 'start',
      label: 'Starting VibeVoice',
      always: true,
      manual: (c) =>
        `${q(c.facts.python ?? 'python')} ${q(path.join(vvDir(c), 'vibevoice_realtime_openai_api.py'))} --port 8880 --device ${torchChoice(c.platform, c.arch, c.gpuVendors, c.sources).device} --model-path ${q(vvModelDir(c))}`,
      async run(c) {
        const device = torchChoice(c.platform, c.arch, c.gpuVendors, c.sources).device;
        c.updateSettings({
          services: {
            vibevoice: {
              enabled: true,
              command: c.facts.python!,
              options: { dir: vvDir(c), modelPath: vvModelDir(c), device },
            },
          },
        });
        // The first load of the model takes minutes on a slow disk.
        await c.startService('vibevoice', 600_000);
      },
    },
  ],
};

export const STEPS: Record<StepId, StepDef> = {
  ollama: OLLAMA,
  piper: PIPER,
  vibevoice: VIBEVOICE,
};
