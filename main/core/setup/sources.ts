// Where setup downloads from: the one table of real URLs. Tests point it at a loopback server
// (CoreOptions.setupSources, or UNAMENTIS_SETUP_SOURCES=<json file> for a headless core).
// Pure: which artifact fits which OS and CPU.

export interface Sources {
  /** Ollama's release assets (and their `sha256sum.txt`). */
  ollamaRelease: string;
  /** uv's release assets (each with a `<asset>.sha256`). */
  uvRelease: string;
  /** The Python package index (PEP 503 simple API) uv installs from. */
  pypiIndex: string;
  /** PyTorch's wheel indexes: CUDA builds for NVIDIA cards, CPU builds otherwise (Apple's MPS build is on PyPI). */
  torchCudaIndex: string;
  torchCpuIndex: string;
  /** The rhasspy/piper-voices repository (files, and `voices.json` with each file's md5). */
  piperVoices: string;
  /** The VibeVoice server script (a source archive of the repository). */
  vibevoiceSource: string;
  /** The model: Hugging Face's file list (with each large file's sha256) and its files. */
  vibevoiceModelTree: string;
  vibevoiceModelFiles: string;
}

export const SOURCES: Sources = {
  ollamaRelease: 'https://github.com/ollama/ollama/releases/latest/download',
  uvRelease: 'https://github.com/astral-sh/uv/releases/latest/download',
  pypiIndex: 'https://pypi.org/simple',
  // cu128: the first CUDA build with RTX 50-series (Blackwell) kernels; it runs on older cards too.
  torchCudaIndex: 'https://download.pytorch.org/whl/cu128',
  torchCpuIndex: 'https://download.pytorch.org/whl/cpu',
  piperVoices: 'https://huggingface.co/rhasspy/piper-voices/resolve/main',
  vibevoiceSource:
    'https://github.com/marhensa/vibevoice-realtime-openai-api/archive/refs/heads/main.tar.gz',
  vibevoiceModelTree:
    'https://huggingface.co/api/models/microsoft/VibeVoice-Realtime-0.5B/tree/main?recursive=1',
  vibevoiceModelFiles: 'https://huggingface.co/microsoft/VibeVoice-Realtime-0.5B/resolve/main',
};

export const DEFAULT_VOICE = 'en_US-amy-medium';
export const PIPER_PACKAGE = 'piper-tts[http]';
export const PIPER_PYTHON = '3.12';
// The VibeVoice server's own README makes its environment with `uv venv --python 3.13`.
export const VIBEVOICE_PYTHON = '3.13';

/** The folder of a Piper voice in piper-voices: `en_US-amy-medium` → `en/en_US/amy/medium`. */
export function voicePath(voice: string): string {
  const m = /^(([a-z]{2,3})_[A-Za-z]{2,3})-(.+)-(x_low|low|medium|high)$/.exec(voice);
  if (!m) throw new Error(`"${voice}" is not a Piper voice name like en_US-amy-medium`);
  return `${m[2]}/${m[1]}/${m[3]}/${m[4]}`;
}

/** Ollama's download for this OS: a tarball (Linux), the app zip (macOS), the installer (Windows). */
export function ollamaAsset(platform: NodeJS.Platform, arch: string): string {
  if (platform === 'win32') return 'OllamaSetup.exe';
  if (platform === 'darwin') return 'Ollama-darwin.zip';
  return arch === 'arm64' ? 'ollama-linux-arm64.tgz' : 'ollama-linux-amd64.tgz';
}

/** uv's archive for this OS and CPU (cargo-dist target triples). */
export function uvAsset(platform: NodeJS.Platform, arch: string): string {
  const cpu = arch === 'arm64' ? 'aarch64' : 'x86_64';
  if (platform === 'win32') return `uv-${cpu}-pc-windows-msvc.zip`;
  if (platform === 'darwin') return `uv-${cpu}-apple-darwin.tar.gz`;
  return `uv-${cpu}-unknown-linux-gnu.tar.gz`;
}

/** The torch build: CUDA on an NVIDIA card, PyPI's (with MPS) on Apple silicon, else CPU. */
export function torchChoice(
  platform: NodeJS.Platform,
  arch: string,
  gpuVendors: readonly string[],
  s: Sources,
): { device: 'cuda' | 'mps' | 'cpu'; index: string } {
  if (platform === 'darwin' && arch === 'arm64') return { device: 'mps', index: s.pypiIndex };
  if (platform !== 'darwin' && gpuVendors.some((v) => /nvidia/i.test(v)))
    return { device: 'cuda', index: s.torchCudaIndex };
  return { device: 'cpu', index: platform === 'darwin' ? s.pypiIndex : s.torchCpuIndex };
}

/** Finds `name`'s line in a `sha256sum` listing (`<hex>  <name>` or `<hex> *<name>`). */
export function sha256From(listing: string, name: string): string | null {
  for (const line of listing.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(?:\.\/)?(\S+)\s*$/.exec(line.trim());
    if (m && m[2] === name) return m[1]!.toLowerCase();
  }
  // A `<asset>.sha256` file holds one line, sometimes the hash alone.
  const only = /^([0-9a-fA-F]{64})\s*$/.exec(listing.trim());
  return only ? only[1]!.toLowerCase() : null;
}
