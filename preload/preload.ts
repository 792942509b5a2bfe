// The one typed API the dashboard sees (window.unamentis), as an allow-list over IPC.
// ipcRenderer itself is never exposed. Bundled to CommonJS (sandboxed preloads cannot load files).

import { contextBridge, ipcRenderer } from 'electron';
import { Channels, isAllowedChannel, type Channel } from './channels.js';

function invoke<T>(channel: Channel, ...args: unknown[]): Promise<T> {
  if (!isAllowedChannel(channel)) throw new Error(`IPC channel not allowed: ${channel}`);
  return ipcRenderer.invoke(channel, ...args) as Promise<T>;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

const api = {
  async connection(): Promise<{ baseUrl: string; token: string }> {
    const c = await invoke<{ baseUrl: unknown; token: unknown }>(Channels.connection);
    if (!isString(c?.baseUrl) || !isString(c?.token))
      throw new Error('bad connection info from main');
    return { baseUrl: c.baseUrl, token: c.token };
  },
  async pickFile(options?: { title?: string; directory?: boolean }): Promise<string | null> {
    const opts = {
      title: isString(options?.title) ? options.title : undefined,
      directory: options?.directory === true,
    };
    const result = await invoke<unknown>(Channels.pickFile, opts);
    return isString(result) ? result : null;
  },
  async getStartAtLogin(): Promise<boolean> {
    return (await invoke<unknown>(Channels.getStartAtLogin)) === true;
  },
  async setStartAtLogin(on: boolean): Promise<boolean> {
    return (await invoke<unknown>(Channels.setStartAtLogin, on === true)) === true;
  },
  /** A settings change that runs other programs: the app asks the user in a native dialog, then saves it. */
  async confirmSettings(patch: unknown): Promise<{ ok: boolean; message: string }> {
    const r = await invoke<{ ok?: unknown; message?: unknown }>(
      Channels.confirmSettings,
      JSON.parse(JSON.stringify(patch ?? null)),
    );
    return { ok: r?.ok === true, message: isString(r?.message) ? r.message : '' };
  },
};

contextBridge.exposeInMainWorld('unamentis', api);

export type UnamentisApi = typeof api;
