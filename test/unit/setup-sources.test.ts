// Which download fits which OS and CPU, and reading the published checksum lists.

import { describe, expect, it } from 'vitest';
import {
  ollamaAsset,
  sha256From,
  SOURCES,
  torchChoice,
  uvAsset,
  voicePath,
} from '../../main/core/setup/sources.js';

describe('setup sources', () => {
  it('picks the Ollama and uv downloads per OS and CPU', () => {
    expect(ollamaAsset('win32', 'x64')).toBe('OllamaSetup.exe');
    expect(ollamaAsset('darwin', 'arm64')).toBe('Ollama-darwin.zip');
    expect(ollamaAsset('linux', 'x64')).toBe('ollama-linux-amd64.tgz');
    expect(ollamaAsset('linux', 'arm64')).toBe('ollama-linux-arm64.tgz');
    expect(uvAsset('win32', 'x64')).toBe('uv-x86_64-pc-windows-msvc.zip');
    expect(uvAsset('darwin', 'arm64')).toBe('uv-aarch64-apple-darwin.tar.gz');
    expect(uvAsset('linux', 'x64')).toBe('uv-x86_64-unknown-linux-gnu.tar.gz');
  });

  it('CUDA torch on an NVIDIA card, MPS (PyPI) on Apple silicon, else the CPU build', () => {
    expect(torchChoice('win32', 'x64', ['NVIDIA'], SOURCES)).toEqual({
      device: 'cuda',
      index: SOURCES.torchCudaIndex,
    });
    expect(torchChoice('linux', 'x64', ['NVIDIA'], SOURCES).device).toBe('cuda');
    expect(torchChoice('darwin', 'arm64', ['Apple'], SOURCES)).toEqual({
      device: 'mps',
      index: SOURCES.pypiIndex,
    });
    expect(torchChoice('linux', 'x64', ['AMD'], SOURCES)).toEqual({
      device: 'cpu',
      index: SOURCES.torchCpuIndex,
    });
    expect(torchChoice('win32', 'x64', [], SOURCES).device).toBe('cpu');
  });

  it('reads sha256sum.txt and <asset>.sha256', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const list = `${a}  ./OllamaSetup.exe\n${b}  ./ollama-linux-amd64.tgz\n`;
    expect(sha256From(list, 'ollama-linux-amd64.tgz')).toBe('b'.repeat(64));
    expect(sha256From(list, 'ollama-linux-arm64.tgz')).toBeNull();
    expect(
      sha256From(`${a} *uv-x86_64-pc-windows-msvc.zip\n`, 'uv-x86_64-pc-windows-msvc.zip'),
    ).toBe(a);
    expect(sha256From(`${a}\n`, 'anything')).toBe(a);
  });

  it('finds a voice in piper-voices', () => {
    expect(voicePath('en_US-amy-medium')).toBe('en/en_US/amy/medium');
    expect(voicePath('de_DE-thorsten-high')).toBe('de/de_DE/thorsten/high');
    expect(() => voicePath('amy')).toThrow(/not a Piper voice name/);
  });
});
