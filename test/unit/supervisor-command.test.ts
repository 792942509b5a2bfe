import { describe, expect, it } from 'vitest';
import {
  bindHostFor,
  buildLaunch,
  childEnv,
  connectHostFor,
  fatalMessage,
  findExecutable,
  resolveSpec,
  serviceIds,
  type FileProbe,
  type HostEnv,
} from '../../main/core/services/command.js';
import {
  defaultSettings,
  type ServiceSettings,
  type Settings,
} from '../../main/core/settings/schema.js';
import { PRESETS } from '../../main/core/services/presets.js';

/** A file system made of the listed files (executable) and folders. */
function fsOf(files: string[], dirs: string[] = []): FileProbe {
  return {
    isFile: (p) => files.includes(p),
    isDir: (p) => dirs.includes(p),
    isExecutable: (p) => files.includes(p),
  };
}

const linux: HostEnv = {
  platform: 'linux',
  env: { PATH: '/usr/local/bin:/usr/bin' },
  home: '/home/u',
};
const mac: HostEnv = { platform: 'darwin', env: { PATH: '/usr/bin' }, home: '/Users/u' };
const win: HostEnv = {
  platform: 'win32',
  env: { Path: 'C:\\Windows', PATHEXT: '.EXE;.CMD', LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' },
  home: 'C:\\Users\\u',
};

function settingsWith(
  services: Record<string, ServiceSettings>,
  patch: Partial<Settings> = {},
): Settings {
  const s = defaultSettings(
    { platform: 'linux', hostname: 'h' },
    { hostId: '00000000-0000-0000-0000-000000000000', token: 'x'.repeat(20) },
  );
  return { ...s, ...patch, services };
}

function plan(id: string, s: Settings, host: HostEnv, probe: FileProbe) {
  const spec = resolveSpec(id, s, host);
  return { spec, result: buildLaunch(spec, s.services[id] ?? {}, host, probe) };
}

describe('ollama preset', () => {
  it('runs `ollama serve` with OLLAMA_HOST on all interfaces when serving on the LAN', () => {
    const { spec, result } = plan('ollama', settingsWith({}), linux, fsOf(['/usr/bin/ollama']));
    expect(spec).toMatchObject({
      port: 11434,
      enabled: true,
      health: 'ollama',
      bindHost: '0.0.0.0',
      connectHost: '127.0.0.1',
    });
    expect(result).toMatchObject({
      ok: true,
      plan: { file: '/usr/bin/ollama', args: ['serve'], env: { OLLAMA_HOST: '0.0.0.0:11434' } },
    });
  });

  it('binds loopback when serve-on-LAN is off, and passes keep-alive, models dir and origins', () => {
    const s = settingsWith(
      {
        ollama: {
          port: 12000,
          options: { keepAlive: '10m', modelsDir: '/data/models', origins: '*' },
        },
      },
      { serveOnLan: false },
    );
    const { result } = plan('ollama', s, linux, fsOf(['/usr/local/bin/ollama']));
    expect(result.ok && result.plan.env).toEqual({
      OLLAMA_HOST: '127.0.0.1:12000',
      OLLAMA_KEEP_ALIVE: '10m',
      OLLAMA_MODELS: '/data/models',
      OLLAMA_ORIGINS: '*',
    });
  });

  it('keeps models loaded until `cold` by default (Ollama would unload after 5 min), and not when hibernation is off', () => {
    const on = plan('ollama', settingsWith({}), linux, fsOf(['/usr/bin/ollama'])).result;
    expect(on.ok && on.plan.env.OLLAMA_KEEP_ALIVE).toBe('1860s');
    const base = settingsWith({});
    const off = plan(
      'ollama',
      { ...base, hibernation: { ...base.hibernation, enabled: false } },
      linux,
      fsOf(['/usr/bin/ollama']),
    ).result;
    expect(off.ok && off.plan.env.OLLAMA_KEEP_ALIVE).toBeUndefined();
  });

  it('finds the default install locations per OS', () => {
    expect(
      plan(
        'ollama',
        settingsWith({}),
        mac,
        fsOf(['/Applications/Ollama.app/Contents/Resources/ollama']),
      ).result,
    ).toMatchObject({
      ok: true,
      plan: { file: '/Applications/Ollama.app/Contents/Resources/ollama' },
    });
    const winExe = 'C:\\Users\\u\\AppData\\Local\\Programs\\Ollama\\ollama.exe';
    expect(plan('ollama', settingsWith({}), win, fsOf([winExe])).result).toMatchObject({
      ok: true,
      plan: { file: winExe },
    });
    // PATH comes first.
    expect(
      plan('ollama', settingsWith({}), win, fsOf([winExe, 'C:\\Windows\\ollama.exe'])).result,
    ).toMatchObject({
      ok: true,
      plan: { file: 'C:\\Windows\\ollama.exe' },
    });
  });

  it('says where it looked and which setting to change when Ollama is missing', () => {
    const { result } = plan('ollama', settingsWith({}), linux, fsOf([]));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toContain('Ollama was not found');
      expect(result.problem).toContain('/usr/local/bin/ollama');
      expect(result.problem).toContain('services.ollama.command');
    }
  });

  it('a configured command that does not exist names that command and setting', () => {
    const { result } = plan(
      'ollama',
      settingsWith({ ollama: { command: '/opt/ollama/bin/ollama' } }),
      linux,
      fsOf(['/usr/bin/ollama']),
    );
    expect(result).toEqual({
      ok: false,
      problem: expect.stringContaining('at /opt/ollama/bin/ollama'),
    });
    if (!result.ok) expect(result.problem).toContain('services.ollama.command');
  });

  it('settings override argv and env; env merges over the preset', () => {
    const s = settingsWith({
      ollama: {
        command: 'ollama',
        args: ['serve', '--verbose'],
        env: { OLLAMA_DEBUG: '1', OLLAMA_HOST: '127.0.0.1:1' },
      },
    });
    const { result } = plan('ollama', s, linux, fsOf(['/usr/bin/ollama']));
    expect(result).toMatchObject({
      ok: true,
      plan: {
        args: ['serve', '--verbose'],
        env: { OLLAMA_DEBUG: '1', OLLAMA_HOST: '127.0.0.1:1' },
      },
    });
  });
});

describe('vibevoice preset', () => {
  const dir = '/home/u/vibevoice-realtime-openai-api';
  const py = `${dir}/.venv/bin/python`;
  const script = `${dir}/vibevoice_realtime_openai_api.py`;

  it('runs the script with host, port, device and model path from the venv in its folder', () => {
    const { spec, result } = plan('vibevoice', settingsWith({}), linux, fsOf([py, script], [dir]));
    expect(spec.port).toBe(8880);
    expect(result).toMatchObject({
      ok: true,
      plan: {
        file: py,
        args: [
          script,
          '--host',
          '0.0.0.0',
          '--port',
          '8880',
          '--device',
          'cuda',
          '--model-path',
          'microsoft/VibeVoice-Realtime-0.5B',
        ],
        cwd: dir,
      },
    });
  });

  it('uses mps on a Mac', () => {
    const d = '/Users/u/vibevoice-realtime-openai-api';
    const { result } = plan(
      'vibevoice',
      settingsWith({}),
      mac,
      fsOf([`${d}/venv/bin/python`, `${d}/vibevoice_realtime_openai_api.py`], [d]),
    );
    expect(result.ok && result.plan.args.slice(5, 7)).toEqual(['--device', 'mps']);
  });

  it('names the missing interpreter, script or model and the setting', () => {
    const noPy = plan('vibevoice', settingsWith({}), linux, fsOf([script], [dir])).result;
    expect(noPy.ok === false && noPy.problem).toMatch(
      /VibeVoice's Python interpreter was not found.*services\.vibevoice\.command/,
    );
    const noScript = plan('vibevoice', settingsWith({}), linux, fsOf([py], [dir])).result;
    expect(noScript.ok === false && noScript.problem).toBe(
      `VibeVoice's script was not found at ${script}. Set services.vibevoice.options.script (or options.dir).`,
    );
    // Own argv (e.g. a different launcher) skips the preset's script and model checks.
    const own = settingsWith({ vibevoice: { command: py, args: ['serve.py', '--port', '8880'] } });
    expect(plan('vibevoice', own, linux, fsOf([py])).result).toMatchObject({
      ok: true,
      plan: { args: ['serve.py', '--port', '8880'], cwd: undefined },
    });
    const s = settingsWith({ vibevoice: { options: { modelPath: '~/models/vv' } } });
    const noModel = plan('vibevoice', s, linux, fsOf([py, script], [dir])).result;
    expect(noModel.ok === false && noModel.problem).toBe(
      "VibeVoice's model was not found at /home/u/models/vv. Set services.vibevoice.options.modelPath.",
    );
  });
});

describe('piper preset', () => {
  it('always passes --port (its own default is 5000), and --cuda when asked', () => {
    const s = settingsWith({ piper: { options: { cuda: true } } });
    const { result } = plan('piper', s, linux, fsOf(['/usr/bin/python3']));
    expect(result).toMatchObject({
      ok: true,
      plan: {
        file: '/usr/bin/python3',
        args: [
          '-m',
          'piper.http_server',
          '-m',
          'en_US-amy-medium',
          '--host',
          '0.0.0.0',
          '--port',
          '11402',
          '--cuda',
        ],
      },
    });
  });

  it('checks a voice given as a file', () => {
    const s = settingsWith({ piper: { options: { voice: '/voices/amy.onnx' } } });
    const r = plan('piper', s, linux, fsOf(['/usr/bin/python3'])).result;
    expect(r.ok === false && r.problem).toBe(
      'The Piper voice was not found at /voices/amy.onnx. Set services.piper.options.voice.',
    );
  });

  it('turns "No module named piper" into an install hint', () => {
    const { spec, result } = plan('piper', settingsWith({}), linux, fsOf(['/usr/bin/python3']));
    if (!result.ok) throw new Error(result.problem);
    const msg = fatalMessage(
      spec,
      "Error while finding module specification for 'piper.http_server' (ModuleNotFoundError: No module named 'piper')",
      result.ctx,
    );
    expect(msg).toContain('-m pip install "piper-tts[http]"');
    expect(msg).toContain('services.piper.command');
    expect(fatalMessage(spec, 'Traceback: KeyboardInterrupt', result.ctx)).toBeNull();
  });
});

describe('whisper preset and user-added services', () => {
  it('whisper is disabled by default and needs a model', () => {
    const s = settingsWith({});
    expect(resolveSpec('whisper', s, linux).enabled).toBe(false);
    const r = plan('whisper', s, linux, fsOf(['/usr/local/bin/whisper-server'])).result;
    expect(r.ok === false && r.problem).toBe(
      "Whisper's model file is not set. Set services.whisper.options.model.",
    );
    const s2 = settingsWith({
      whisper: { enabled: true, options: { model: '/m/ggml-base.en.bin' } },
    });
    expect(
      plan('whisper', s2, linux, fsOf(['/usr/local/bin/whisper-server', '/m/ggml-base.en.bin']))
        .result,
    ).toMatchObject({
      ok: true,
      plan: {
        args: [
          '--host',
          '0.0.0.0',
          '--port',
          '11401',
          '-m',
          '/m/ggml-base.en.bin',
          '--inference-path',
          '/v1/audio/transcriptions',
        ],
      },
    });
  });

  it("Piper's Python on Windows: a per-user python.org install that is not on PATH", () => {
    const s = settingsWith({ piper: { options: { voice: 'en_US-amy-medium' } } });
    const py = 'C:\\Users\\u\\AppData\\Local\\Programs\\Python\\Python312\\python.exe';
    expect(plan('piper', s, win, fsOf([py])).result).toMatchObject({
      ok: true,
      plan: { file: py },
    });
  });

  it('whisper-server is looked for where Homebrew and the Windows release zip put it', () => {
    const s = settingsWith({
      whisper: { enabled: true, options: { model: '/m/ggml-base.en.bin' } },
    });
    // A Finder-started app's PATH has no /opt/homebrew/bin.
    expect(
      plan('whisper', s, mac, fsOf(['/opt/homebrew/bin/whisper-server', '/m/ggml-base.en.bin']))
        .result,
    ).toMatchObject({
      ok: true,
      plan: { file: '/opt/homebrew/bin/whisper-server' },
    });
    const ws = settingsWith({
      whisper: { enabled: true, options: { model: 'C:\\m\\ggml-base.en.bin' } },
    });
    const zip = 'C:\\Users\\u\\Downloads\\whisper-bin-x64\\Release\\whisper-server.exe';
    expect(plan('whisper', ws, win, fsOf([zip, 'C:\\m\\ggml-base.en.bin'])).result).toMatchObject({
      ok: true,
      plan: { file: zip },
    });
    const wd = settingsWith({
      whisper: {
        enabled: true,
        options: { model: 'C:\\m\\ggml-base.en.bin', dir: 'D:\\tools\\whisper' },
      },
    });
    expect(
      plan(
        'whisper',
        wd,
        win,
        fsOf(['D:\\tools\\whisper\\Release\\whisper-server.exe', 'C:\\m\\ggml-base.en.bin']),
      ).result,
    ).toMatchObject({
      ok: true,
      plan: { file: 'D:\\tools\\whisper\\Release\\whisper-server.exe' },
    });
  });

  it('a user-added service needs a command and uses its health path', () => {
    const s = settingsWith({
      kokoro: { port: 9000, healthPath: '/ping', args: ['--x'], command: 'kokoro' },
    });
    expect(serviceIds(s, PRESETS)).toEqual(['ollama', 'vibevoice', 'piper', 'whisper', 'kokoro']);
    const { spec, result } = plan('kokoro', s, linux, fsOf(['/usr/bin/kokoro']));
    expect(spec).toMatchObject({
      name: 'kokoro',
      health: 'http',
      healthPath: '/ping',
      port: 9000,
      enabled: true,
    });
    expect(result).toMatchObject({
      ok: true,
      plan: { file: '/usr/bin/kokoro', args: ['--x'], env: {} },
    });
    const bare = settingsWith({ thing: { port: 1 } });
    const r = plan('thing', bare, linux, fsOf([])).result;
    expect(r.ok === false && r.problem).toBe(
      'thing has no command to run. Set services.thing.command.',
    );
  });

  it('a missing working folder is reported with its setting', () => {
    const s = settingsWith({ x: { command: '/bin/x', cwd: '/nope' } });
    const r = plan('x', s, linux, fsOf(['/bin/x'])).result;
    expect(r.ok === false && r.problem).toBe(
      'The working folder /nope of x does not exist. Set services.x.cwd.',
    );
  });
});

describe('helpers', () => {
  it('bind and connect hosts', () => {
    expect(bindHostFor(true)).toBe('0.0.0.0');
    expect(bindHostFor(false)).toBe('127.0.0.1');
    expect(connectHostFor('0.0.0.0')).toBe('127.0.0.1');
    expect(connectHostFor('::')).toBe('::1');
    expect(connectHostFor('192.168.1.5')).toBe('192.168.1.5');
  });

  it('findExecutable adds .exe on Windows (never .cmd: no shell) and expands ~ on POSIX', () => {
    expect(
      findExecutable('whisper-server', win, fsOf(['C:\\Windows\\whisper-server.cmd'])),
    ).toBeNull();
    expect(findExecutable('whisper-server', win, fsOf(['C:\\Windows\\whisper-server.exe']))).toBe(
      'C:\\Windows\\whisper-server.exe',
    );
    expect(findExecutable('~/bin/tool', linux, fsOf(['/home/u/bin/tool']))).toBe(
      '/home/u/bin/tool',
    );
    expect(findExecutable('tool', linux, fsOf(['/opt/tool']))).toBeNull();
  });

  it('childEnv drops Electron variables and applies the plan on top', () => {
    const env = childEnv(
      { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1', HOME: '/h', UNSET: undefined },
      { file: 'x', args: [], env: { HOME: '/other' }, cwd: undefined },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/other' });
  });

  it('childEnv passes on only what programs need, not the server’s secrets or settings (issue #20)', () => {
    const base = {
      PATH: '/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      CUDA_VISIBLE_DEVICES: '0',
      LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
      HTTPS_PROXY: 'http://proxy:3128',
      Path: 'C:\\Windows',
      AWS_SECRET_ACCESS_KEY: 'k',
      GITHUB_TOKEN: 't',
      UNAMENTIS_DATA_DIR: '/d',
      NODE_OPTIONS: '--require x',
      npm_config_cache: '/c',
      ELECTRON_RUN_AS_NODE: '1',
    };
    expect(
      childEnv(base, { file: 'x', args: [], env: { OLLAMA_HOST: '127.0.0.1:1' }, cwd: undefined }),
    ).toEqual({
      PATH: '/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      CUDA_VISIBLE_DEVICES: '0',
      LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
      HTTPS_PROXY: 'http://proxy:3128',
      Path: 'C:\\Windows',
      OLLAMA_HOST: '127.0.0.1:1',
    });
  });
});
