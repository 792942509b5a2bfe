// The services the app knows out of the box: how each is found, started, checked and explained.
// Settings (`services[id]`) can override every field; user-added services use the same shape
// without a preset. Pure data and functions: no IO here.

/** Ollama's own default port (what `OLLAMA_HOST` falls back to), which the app expects. */
export const OLLAMA_DEFAULT_PORT = 11434;

export type HealthKind = 'ollama' | 'vibevoice' | 'piper' | 'whisper' | 'http';

export type Options = Record<string, string | number | boolean>;

export interface PresetContext {
  platform: NodeJS.Platform;
  home: string;
  env: Record<string, string | undefined>;
  /** Address the child should bind (loopback, or all interfaces when serving on the LAN). */
  host: string;
  port: number;
  options: Options;
  /** The executable as resolved (for messages that tell the user what to run). */
  command: string;
  /** The arguments it was started with, once known (settings may replace the preset's). */
  argv?: readonly string[];
}

/** The value after `flag` in the started command, else `fallback`. */
function argAfter(ctx: PresetContext, flag: string, fallback: string): string {
  const i = ctx.argv?.indexOf(flag) ?? -1;
  return i >= 0 && ctx.argv![i + 1] !== undefined ? ctx.argv![i + 1]! : fallback;
}

interface RequiredPath {
  path: string;
  /** What it is, for the message: "VibeVoice's script". */
  what: string;
  /** The setting that changes it: "services.vibevoice.options.script". */
  setting: string;
  kind: 'file' | 'dir';
}

export interface FatalOutput {
  /** Matched against the last lines a process printed before it exited. */
  pattern: RegExp;
  message: (match: RegExpExecArray, ctx: PresetContext) => string;
}

export interface Preset {
  id: string;
  name: string;
  port: number;
  enabled: boolean;
  health: HealthKind;
  /** Model loads can be slow: how long `starting` may last before the start counts as hung. */
  startTimeoutMs: number;
  /** Options merged under `services[id].options`. */
  defaultOptions(platform: NodeJS.Platform): Options;
  /** Candidate executables, in order; bare names are looked up on PATH. */
  commands(ctx: Omit<PresetContext, 'command'>): string[];
  /** Names the command in messages: "Ollama", "VibeVoice's Python interpreter". */
  commandLabel: string;
  /** How to fix a missing command, after "… was not found". */
  installHint: string;
  args(ctx: PresetContext): string[];
  env(ctx: PresetContext): Record<string, string>;
  /** Paths that must exist before starting (script, model, working folder). */
  requiredPaths(ctx: PresetContext): RequiredPath[];
  /** Working folder when settings name none. */
  cwd?(ctx: PresetContext): string | undefined;
  fatalOutput: FatalOutput[];
  /**
   * Lines worth a notice while the process runs (a failed model load it survives, a CPU fallback):
   * the message, or '' when the match needs none. Each message is raised once per process.
   */
  logNotices?: FatalOutput[];
  /** Shown on an `external` service: what "take over" means for this one. */
  externalHint(port: number): string;
}

const str = (v: string | number | boolean | undefined): string =>
  v === undefined ? '' : String(v);

/** `~/x` → home/x; other paths unchanged. */
export function expandHome(p: string, home: string, platform: NodeJS.Platform): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || (platform === 'win32' && p.startsWith('~\\')))
    return join(platform, home, p.slice(2));
  return p;
}

export function join(platform: NodeJS.Platform, ...parts: string[]): string {
  const sep = platform === 'win32' ? '\\' : '/';
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, '')))
    .join(sep);
}

/** A model argument that names a local file or folder (not a hub id like `microsoft/VibeVoice-Realtime-0.5B`). */
function looksLikeLocalPath(p: string): boolean {
  return (
    /^(\/|\.{1,2}[\\/]|~|[A-Za-z]:[\\/]|\\\\)/.test(p) || /\.(onnx|bin|gguf|safetensors)$/i.test(p)
  );
}

const pythonFatal = (service: string, setting: string): FatalOutput[] => [
  {
    pattern: /No module named '?([\w.]+)'?/,
    message: (m, ctx) =>
      `${service} cannot start: the Python at ${ctx.command} has no module "${m[1]}". Install ${service}'s requirements into it, or set ${setting}.command to the Python of the environment where ${service} is installed.`,
  },
  {
    pattern: /can't open file '?([^'\n]+)'?/,
    message: (m) =>
      `${service} cannot start: the script ${m[1]} was not found. Set ${setting}.options.script (or options.dir).`,
  },
];

const ollama: Preset = {
  id: 'ollama',
  name: 'Ollama',
  port: OLLAMA_DEFAULT_PORT,
  enabled: true,
  health: 'ollama',
  startTimeoutMs: 60_000,
  defaultOptions: () => ({}),
  commands: ({ platform, env, home }) => {
    if (platform === 'win32') {
      const local = env.LOCALAPPDATA || join('win32', home, 'AppData', 'Local');
      return ['ollama', join('win32', local, 'Programs', 'Ollama', 'ollama.exe')];
    }
    if (platform === 'darwin') {
      return [
        'ollama',
        '/Applications/Ollama.app/Contents/Resources/ollama',
        '/usr/local/bin/ollama',
        '/opt/homebrew/bin/ollama',
      ];
    }
    return ['ollama', '/usr/local/bin/ollama', '/usr/bin/ollama'];
  },
  commandLabel: 'Ollama',
  installHint:
    'Install Ollama (https://ollama.com/download), or set the path to the ollama program in services.ollama.command.',
  args: () => ['serve'],
  env: ({ host, port, options }) => {
    const env: Record<string, string> = { OLLAMA_HOST: `${host}:${port}` };
    if (str(options.keepAlive)) env.OLLAMA_KEEP_ALIVE = str(options.keepAlive);
    if (str(options.modelsDir)) env.OLLAMA_MODELS = str(options.modelsDir);
    if (Number(options.contextLength) > 0)
      env.OLLAMA_CONTEXT_LENGTH = String(Number(options.contextLength));
    if (str(options.origins)) env.OLLAMA_ORIGINS = str(options.origins);
    return env;
  },
  requiredPaths: () => [],
  fatalOutput: [],
  externalHint: (port) =>
    `Ollama is already running on port ${port}, started outside UnaMentis Server (probably the Ollama desktop app): it is used as is, but not managed. ` +
    `Take over quits the Ollama desktop app (stopping only its "ollama serve" does not work: the app starts it again about 1 s later) ` +
    `and starts Ollama here with the app's model folder and context length.`,
};

const vibevoice: Preset = {
  id: 'vibevoice',
  name: 'VibeVoice',
  port: 8880,
  enabled: true,
  health: 'vibevoice',
  // The first load downloads and loads a 2–3 GB model.
  startTimeoutMs: 600_000,
  defaultOptions: (platform) => ({
    dir: '~/vibevoice-realtime-openai-api',
    modelPath: 'microsoft/VibeVoice-Realtime-0.5B',
    device: platform === 'darwin' ? 'mps' : 'cuda',
  }),
  commands: ({ platform, options, home }) => {
    const dir = expandHome(str(options.dir), home, platform);
    return platform === 'win32'
      ? [
          join(platform, dir, '.venv', 'Scripts', 'python.exe'),
          join(platform, dir, 'venv', 'Scripts', 'python.exe'),
        ]
      : [
          join(platform, dir, '.venv', 'bin', 'python'),
          join(platform, dir, 'venv', 'bin', 'python'),
        ];
  },
  commandLabel: "VibeVoice's Python interpreter",
  installHint:
    'Set services.vibevoice.command to the python of the VibeVoice virtual environment, or services.vibevoice.options.dir to the folder where vibevoice-realtime-openai-api was cloned (with its .venv).',
  args: ({ host, port, options, home, platform }) => [
    scriptOf(options, home, platform),
    '--host',
    host,
    '--port',
    String(port),
    '--device',
    str(options.device),
    '--model-path',
    expandHome(str(options.modelPath), home, platform),
  ],
  env: () => ({ PYTHONUNBUFFERED: '1' }),
  requiredPaths: ({ options, home, platform }) => {
    const out: RequiredPath[] = [
      {
        path: scriptOf(options, home, platform),
        what: "VibeVoice's script",
        setting: 'services.vibevoice.options.script (or options.dir)',
        kind: 'file',
      },
    ];
    const model = str(options.modelPath);
    if (looksLikeLocalPath(model)) {
      out.push({
        path: expandHome(model, home, platform),
        what: "VibeVoice's model",
        setting: 'services.vibevoice.options.modelPath',
        kind: 'dir',
      });
    }
    return out;
  },
  cwd: ({ options, home, platform }) =>
    str(options.dir) ? expandHome(str(options.dir), home, platform) : undefined,
  fatalOutput: pythonFatal('VibeVoice', 'services.vibevoice'),
  // vibevoice_realtime_openai_api.py catches a failed load in its lifespan, prints
  // `[FATAL] Model loading failed: <e>` and serves on with /health model_loaded false and no reason;
  // a load that worked prints `[startup] Model ready on <device>` (lapy/vibevoice-realtime-openai-api).
  logNotices: [
    {
      pattern: /\[FATAL\] Model loading failed: (.+)/,
      message: (m, ctx) =>
        `VibeVoice could not load its model: ${m[1]!.trim()}` +
        (/cuda|nvidia/i.test(m[1]!) && argAfter(ctx, '--device', str(ctx.options.device)) === 'cuda'
          ? `. Its Python (${ctx.command}) may have a CPU-only torch: install a CUDA build of torch there, or set services.vibevoice.options.device to "cpu".`
          : ''),
    },
    {
      pattern: /Model ready on (\w+)/,
      message: (m, ctx) => {
        const want = argAfter(ctx, '--device', str(ctx.options.device));
        return want && m[1] !== want
          ? `VibeVoice runs on the ${m[1]!.toUpperCase()}, not on ${want} as configured: speech will be slow. Its Python (${ctx.command}) has no ${want} support in torch; install a torch build with it in that environment.`
          : '';
      },
    },
  ],
  externalHint: (port) =>
    `VibeVoice is already running on port ${port}, started outside UnaMentis Server: it is used as is, but not managed (hibernation cannot unload it). Take over stops that process and starts VibeVoice here.`,
};

function scriptOf(options: Options, home: string, platform: NodeJS.Platform): string {
  if (str(options.script)) return expandHome(str(options.script), home, platform);
  return join(
    platform,
    expandHome(str(options.dir), home, platform),
    'vibevoice_realtime_openai_api.py',
  );
}

/** Where Piper's voices live: a folder of the app's data folder (the preset's `--data-dir`). */
export function piperVoicesDir(appDataDir: string, platform: NodeJS.Platform): string {
  return join(platform, appDataDir, 'piper-voices');
}

/** `python3 -m pip install "piper-tts[http]"`: the command that installs Piper with its web server. */
function pipInstallPiper(python: string): string {
  return `"${python}" -m pip install "piper-tts[http]"`;
}

const piper: Preset = {
  id: 'piper',
  name: 'Piper',
  port: 11402,
  enabled: true,
  health: 'piper',
  startTimeoutMs: 120_000,
  defaultOptions: () => ({ voice: 'en_US-amy-medium', cuda: false }),
  commands: ({ platform, env, home }) => {
    if (platform !== 'win32') return ['python3', 'python'];
    // python.org's installer puts a per-user Python in %LOCALAPPDATA%\Programs\Python\PythonXYZ and
    // does not add it to PATH unless asked; the `py` launcher is in C:\Windows.
    const local = env.LOCALAPPDATA || join('win32', home, 'AppData', 'Local');
    const perUser = ['313', '312', '311', '310', '39'].map((v) =>
      join('win32', local, 'Programs', 'Python', `Python${v}`, 'python.exe'),
    );
    return ['python', 'py', ...perUser];
  },
  commandLabel: 'Python (for Piper)',
  installHint:
    'Install Python, then Piper with its web server: python3 -m pip install "piper-tts[http]" (Windows: py -m pip install "piper-tts[http]"), or set services.piper.command to the python of the environment where Piper is installed.',
  // Piper's own default port is 5000: always pass --port. Its --data-dir appends to a list that
  // starts with the working folder, and downloads go to the first entry: so the working folder is
  // the voice folder too, and --download-dir names it (piper1-gpl src/piper/http_server.py).
  args: ({ host, port, options, home, platform }) => [
    '-m',
    'piper.http_server',
    '-m',
    expandHome(str(options.voice), home, platform),
    '--host',
    host,
    '--port',
    String(port),
    ...(options.cuda === true ? ['--cuda'] : []),
    ...(str(options.dataDir)
      ? [
          '--data-dir',
          expandHome(str(options.dataDir), home, platform),
          '--download-dir',
          expandHome(str(options.dataDir), home, platform),
        ]
      : []),
  ],
  cwd: ({ options, home, platform }) =>
    str(options.dataDir) ? expandHome(str(options.dataDir), home, platform) : undefined,
  env: () => ({ PYTHONUNBUFFERED: '1' }),
  requiredPaths: ({ options, home, platform }) => {
    const out: RequiredPath[] = [];
    const voice = str(options.voice);
    if (looksLikeLocalPath(voice))
      out.push({
        path: expandHome(voice, home, platform),
        what: 'The Piper voice',
        setting: 'services.piper.options.voice',
        kind: 'file',
      });
    if (str(options.dataDir))
      out.push({
        path: expandHome(str(options.dataDir), home, platform),
        what: "Piper's voice folder",
        setting: 'services.piper.options.dataDir',
        kind: 'dir',
      });
    return out;
  },
  fatalOutput: [
    {
      pattern: /No module named '?piper/,
      message: (_m, ctx) =>
        `Piper is not installed for the Python at ${ctx.command}. Install it with: ${pipInstallPiper(ctx.command)} (or set services.piper.command to a Python that has it).`,
    },
    {
      // piper-tts without its [http] extra: 1.5+ exits with "The HTTP server requires additional
      // dependencies. Install with: pip install piper-tts[http]"; 1.2–1.4 import Flask at the top.
      pattern: /No module named '?flask'?|requires additional dependencies/i,
      message: (_m, ctx) =>
        `Piper's web server needs Flask, which the Python at ${ctx.command} does not have. Install it with: ${pipInstallPiper(ctx.command)}`,
    },
    {
      pattern:
        /(?:Unable to find voice|voice .* not found|No such file or directory: '[^']*\.onnx)/i,
      message: (_m, ctx) =>
        `Piper could not find the voice "${str(ctx.options.voice)}" in ${str(ctx.options.dataDir) || 'its working folder'}. Download it in the dashboard (Models → Piper voices), ` +
        `or run: "${ctx.command}" -m piper.download_voices ${str(ctx.options.voice)} --download-dir "${str(ctx.options.dataDir) || '.'}"`,
    },
  ],
  externalHint: (port) =>
    `Piper is already running on port ${port}, started outside UnaMentis Server: it is used as is, but not managed. Take over stops that process and starts Piper here.`,
};

const whisper: Preset = {
  id: 'whisper',
  name: 'Whisper',
  port: 11401,
  enabled: false,
  health: 'whisper',
  startTimeoutMs: 120_000,
  defaultOptions: () => ({ model: '', inferencePath: '/v1/audio/transcriptions' }),
  commands: ({ platform, home, env, options }) => {
    const dir = str(options.dir) ? expandHome(str(options.dir), home, platform) : '';
    if (platform === 'win32') {
      // The release zips (whisper-bin-x64.zip, whisper-cublas-*-bin-x64.zip) hold a `Release` folder
      // (Compress-Archive -Path build/bin/Release in whisper.cpp's build.yml); Explorer's "Extract
      // all" unpacks next to the zip, in Downloads.
      const downloads = join('win32', env.USERPROFILE || home, 'Downloads');
      const unpacked = [
        'whisper-bin-x64',
        'whisper-cublas-12.4.0-bin-x64',
        'whisper-cublas-11.8.0-bin-x64',
        'whisper-blas-bin-x64',
      ];
      return [
        ...(dir
          ? [
              join('win32', dir, 'Release', 'whisper-server.exe'),
              join('win32', dir, 'whisper-server.exe'),
            ]
          : []),
        'whisper-server',
        ...unpacked.map((z) => join('win32', downloads, z, 'Release', 'whisper-server.exe')),
      ];
    }
    return [
      ...(dir
        ? [
            join(platform, dir, 'build', 'bin', 'whisper-server'),
            join(platform, dir, 'whisper-server'),
          ]
        : []),
      'whisper-server',
      // Homebrew (`brew install whisper-cpp`) on Apple silicon, then Intel Macs and source installs.
      '/opt/homebrew/bin/whisper-server',
      '/usr/local/bin/whisper-server',
      join(platform, home, 'whisper.cpp', 'build', 'bin', 'whisper-server'),
    ];
  },
  commandLabel: 'whisper-server',
  installHint:
    "Install whisper.cpp's whisper-server (macOS: brew install whisper-cpp; Windows: unpack whisper-bin-x64.zip from github.com/ggml-org/whisper.cpp/releases and set services.whisper.options.dir to that folder), or set its path in services.whisper.command.",
  // whisper-server answers on /inference unless told otherwise; the iPhone app's Whisper client
  // posts to /v1/audio/transcriptions (OpenAI's path).
  args: ({ host, port, options, home, platform }) => [
    '--host',
    host,
    '--port',
    String(port),
    '-m',
    expandHome(str(options.model), home, platform),
    ...(str(options.inferencePath) ? ['--inference-path', str(options.inferencePath)] : []),
  ],
  env: () => ({}),
  requiredPaths: ({ options, home, platform }) => [
    {
      path: expandHome(str(options.model), home, platform),
      what: "Whisper's model file",
      setting: 'services.whisper.options.model',
      kind: 'file',
    },
  ],
  fatalOutput: [
    {
      pattern: /failed to initialize whisper context/,
      message: (_m, ctx) =>
        `whisper-server could not load the model ${str(ctx.options.model)} (not a whisper.cpp ggml model, or damaged). Download one (e.g. ggml-base.en.bin from huggingface.co/ggerganov/whisper.cpp) and set services.whisper.options.model.`,
    },
  ],
  externalHint: (port) =>
    `Whisper is already running on port ${port}, started outside UnaMentis Server: it is used as is, but not managed. Take over stops that process and starts it here.`,
};

export const PRESETS: readonly Preset[] = [ollama, vibevoice, piper, whisper];

export function presetFor(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}
