// The settings form's layout: which settings it shows, grouped, under which label. Everything else
// about a field (kind of input, allowed values, whether blank is allowed, help text) comes from the
// settings definition (main/core/settings/schema.ts) through __SETTINGS_SCHEMA__.
// test/unit/settings-form.test.ts holds every settable field to this table or NOT_IN_FORM.

import type { SettingsPath } from '../../main/core/contract.js';

export interface FieldSpec {
  /** Where the value lives; a path the settings type lacks does not compile. */
  path: SettingsPath;
  label: string;
  placeholder?: string;
  /** A program or a folder: adds the app's file dialog. */
  pick?: 'file' | 'directory';
  /** Words for an enum's values (the values and their order come from the schema). */
  optionLabels?: Record<string, string>;
}

export interface FieldGroup {
  id: string;
  title: string;
  fields: FieldSpec[];
}

/**
 * Settings the form does not show, and why: each is read-only over the API (READ_ONLY_FIELDS in
 * main/core/settings/schema.ts), so none is a choice the user makes here.
 */
export const NOT_IN_FORM: Record<string, string> = {
  schemaVersion: 'the file format, not a choice',
  hostId: 'made once; shown under Identity',
  'api.token': 'a secret the API never sends (the tray and setup show it)',
  pairing: 'written by pairing itself (the Pairing section)',
};

const LEVEL_LABELS = {
  warm: 'Warm',
  cool: 'Cool',
  cold: 'Cold',
  dormant: 'Dormant',
  never: 'Never',
};

export const GROUPS: FieldGroup[] = [
  {
    id: 'general',
    title: 'This computer',
    fields: [
      { path: ['displayName'], label: 'Name', placeholder: 'the computer’s name' },
      {
        path: ['role'],
        label: 'Role',
        optionLabels: {
          primary: 'Primary (serves whenever awake)',
          fallback: 'Fallback (takes over when the primary is away)',
        },
      },
      { path: ['prio'], label: 'Priority', placeholder: 'role default' },
      { path: ['startAtLogin'], label: 'Start at login' },
    ],
  },
  {
    id: 'network',
    title: 'Network',
    fields: [
      { path: ['serveOnLan'], label: 'Expose the AI services on the local network' },
      { path: ['frontDoor', 'enabled'], label: 'Front door on the service ports' },
      {
        path: ['frontDoor', 'allowFrom'],
        label: 'Who may use the service ports',
        optionLabels: { lan: 'The local network only', any: 'Anyone who can reach this computer' },
      },
      { path: ['frontDoor', 'llmKey'], label: 'API key for the LLM port' },
      {
        path: ['frontDoor', 'maxHeldRequests'],
        label: 'Requests kept waiting per service while it wakes',
      },
      { path: ['frontDoor', 'maxHoldSeconds'], label: 'Longest wait for a waking service' },
      { path: ['api', 'port'], label: 'Control port' },
      { path: ['api', 'bind'], label: 'Control API address' },
      {
        path: ['api', 'allowedHosts'],
        label: 'Extra host names allowed',
        placeholder: 'one per line',
      },
      { path: ['discovery', 'advertise'], label: 'Advertise on the network (mDNS)' },
      {
        path: ['discovery', 'sharedName'],
        label: 'Shared name of the pair',
        placeholder: 'unamentis',
      },
      {
        path: ['discovery', 'interfaces'],
        label: 'Advertise only on these interfaces',
        placeholder: 'blank = every interface',
      },
      { path: ['discovery', 'ipv6'], label: 'Advertise IPv6 addresses' },
    ],
  },
  {
    id: 'models',
    title: 'Models',
    fields: [
      { path: ['models', 'preload'], label: 'Models to preload', placeholder: 'mistral:7b' },
      { path: ['models', 'learnedPreload'], label: 'Preload the models the phone used last' },
    ],
  },
  {
    id: 'audio',
    title: 'Voices',
    fields: [
      {
        path: ['audio', 'piperVoices'],
        label: 'App voice → Piper voice',
        placeholder: 'nova=en_US-amy-medium, one per line',
      },
    ],
  },
  {
    id: 'hibernation',
    title: 'Hibernation',
    fields: [
      { path: ['hibernation', 'enabled'], label: 'Hibernate when idle' },
      { path: ['hibernation', 'warmAfterSeconds'], label: 'Warm after' },
      { path: ['hibernation', 'coolAfterSeconds'], label: 'Cool after' },
      { path: ['hibernation', 'coldAfterSeconds'], label: 'Cold after' },
      { path: ['hibernation', 'dormantAfterSeconds'], label: 'Dormant after' },
      {
        path: ['hibernation', 'preventSleep'],
        label: 'Keep the computer awake while active or warm',
      },
    ],
  },
  {
    id: 'gpu',
    title: 'GPU sampling',
    fields: [
      { path: ['gpu', 'activeIntervalSeconds'], label: 'Every, while active' },
      { path: ['gpu', 'warmIntervalSeconds'], label: 'Every, while warm' },
      { path: ['gpu', 'coldIntervalSeconds'], label: 'Every, while cool or colder' },
    ],
  },
  {
    id: 'notifications',
    title: 'Notifications',
    fields: [
      { path: ['notifications', 'serviceFailed'], label: 'A service failed' },
      {
        path: ['notifications', 'failover'],
        label: 'Failover or handoff between paired computers',
      },
      { path: ['notifications', 'pairing'], label: 'A pairing request (with its code)' },
      { path: ['notifications', 'modelTooBig'], label: 'A model too big for the GPU' },
    ],
  },
  {
    id: 'supervisor',
    title: 'Supervision',
    fields: [
      { path: ['supervisor', 'stopTimeoutSeconds'], label: 'Stop grace before killing' },
      { path: ['supervisor', 'crashLoopCount'], label: 'Crashes that mean “failed”' },
      { path: ['supervisor', 'crashLoopWindowSeconds'], label: '…within' },
      { path: ['supervisor', 'hungAfterFailures'], label: 'Failed health checks before a restart' },
      { path: ['supervisor', 'healthIntervalSeconds'], label: 'Health check every' },
    ],
  },
];

/** One service's overrides (`services.<id>.*`); blank uses the preset. */
export function serviceFields(id: string): FieldSpec[] {
  return [
    { path: ['services', id, 'enabled'], label: 'Enabled' },
    { path: ['services', id, 'name'], label: 'Shown as', placeholder: 'preset default' },
    {
      path: ['services', id, 'command'],
      label: 'Program',
      placeholder: 'preset default',
      pick: 'file',
    },
    {
      path: ['services', id, 'args'],
      label: 'Arguments',
      placeholder: 'preset default; one per line',
    },
    {
      path: ['services', id, 'cwd'],
      label: 'Working folder',
      placeholder: 'preset default',
      pick: 'directory',
    },
    { path: ['services', id, 'port'], label: 'Port', placeholder: 'preset default' },
    { path: ['services', id, 'env'], label: 'Environment', placeholder: 'KEY=value, one per line' },
    { path: ['services', id, 'options'], label: 'Options', placeholder: 'modelPath=/models/…' },
    {
      path: ['services', id, 'healthPath'],
      label: 'Health path',
      placeholder: 'preset default, e.g. /health',
    },
    {
      path: ['services', id, 'startTimeoutSeconds'],
      label: 'Start timeout',
      placeholder: 'preset default',
    },
    {
      path: ['services', id, 'stopTimeoutSeconds'],
      label: 'Stop timeout',
      placeholder: 'supervision default',
    },
  ];
}

/** One service's hibernation policy (`hibernation.policy.<id>.*`). */
export function policyFields(id: string): FieldSpec[] {
  return [
    {
      path: ['hibernation', 'policy', id, 'stopAt'],
      label: 'Stop from',
      optionLabels: LEVEL_LABELS,
    },
    {
      path: ['hibernation', 'policy', id, 'unloadAt'],
      label: 'Unload models from',
      optionLabels: LEVEL_LABELS,
    },
  ];
}
