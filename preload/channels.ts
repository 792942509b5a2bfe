// IPC channel names: one list, one prefix. The preload refuses anything not listed here.
export const CHANNEL_PREFIX = 'unamentis:';

export const Channels = {
  connection: 'unamentis:connection',
  pickFile: 'unamentis:pick-file',
  getStartAtLogin: 'unamentis:get-start-at-login',
  setStartAtLogin: 'unamentis:set-start-at-login',
  confirmSettings: 'unamentis:confirm-settings',
} as const;

export type Channel = (typeof Channels)[keyof typeof Channels];

export function isAllowedChannel(name: string): name is Channel {
  return name.startsWith(CHANNEL_PREFIX) && (Object.values(Channels) as string[]).includes(name);
}
