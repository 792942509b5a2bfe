// The one settings schema: TypeScript types, the JSON Schema that validates files and API writes,
// and the defaults. Headless keeps it in DATA_DIR/settings.json; the Electron app in userData.

import { SERVICE_ID_PATTERN, type Role } from '../contract.js';

export interface ServiceSettings {
  /** Shown in the UI; presets supply one. */
  name?: string;
  enabled?: boolean;
  /** The executable or interpreter (absolute path, or a bare name looked up on PATH). */
  command?: string;
  /** Full argv after the command. When set, replaces the preset's argv. */
  args?: string[];
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  cwd?: string;
  port?: number;
  /** Preset-specific options (model path, voice, device, script, …). */
  options?: Record<string, string | number | boolean>;
  /** HTTP path whose 2xx answer means healthy (user-added services; presets know their own). */
  healthPath?: string;
  /** How long a start may take before the service counts as hung (presets: 60–600 s). */
  startTimeoutSeconds?: number;
  /** SIGTERM → kill-the-tree grace for this service (default: supervisor.stopTimeoutSeconds). */
  stopTimeoutSeconds?: number;
}

/** How the supervisor treats crashes, hangs and stops (issue 3). */
interface SupervisorSettings {
  /** Seconds between SIGTERM and killing the whole process tree. */
  stopTimeoutSeconds: number;
  /** This many crashes within `crashLoopWindowSeconds` make a service `failed`. */
  crashLoopCount: number;
  crashLoopWindowSeconds: number;
  /** A live service whose health check fails this many times in a row is restarted. */
  hungAfterFailures: number;
  /** Seconds between health checks of a running service (after a failed one, the next comes in 1 s). */
  healthIntervalSeconds: number;
}

/**
 * What hibernation does to one service. A service without an entry is stopped at `dormant`.
 * `unloadAt` applies to services with an unload API (Ollama); stopping also unloads.
 */
export interface HibernationPolicy {
  stopAt?: 'warm' | 'cool' | 'cold' | 'dormant' | 'never';
  unloadAt?: 'warm' | 'cool' | 'cold' | 'dormant' | 'never';
}

interface FrontDoorSettings {
  /** Own the public ports and pass requests to the programs on internal loopback ports. */
  enabled: boolean;
  /** Requests held at once per service while it wakes; more are answered 503. */
  maxHeldRequests: number;
  /** Seconds a request is held while its service wakes before it is answered 503. */
  maxHoldSeconds: number;
  /** `lan`: loopback, private and link-local sources only (403 otherwise); `any`: everyone. */
  allowFrom: 'lan' | 'any';
  /** When set, the LLM port (and the gateway's chat) needs `Authorization: Bearer <llmKey>`. */
  llmKey: string;
}

export interface PairedPeer {
  id: string;
  name: string;
  role: Role;
  prio: number;
  /** base64 shared key for this pair. Secret: never sent by the API. */
  key: string;
  addresses: string[];
  port: number;
  pairedAt: string;
}

export interface Settings {
  schemaVersion: 1;
  /** Stable host id (UUID): created once, survives restarts and renames. */
  hostId: string;
  /** Display and mDNS instance name; empty means the OS host name. */
  displayName: string;
  role: Role;
  /** 0–255, higher wins; null means the role's default (primary 200, fallback 100). */
  prio: number | null;
  /** Bind Ollama and the TTS services to all interfaces (the iPhone needs this) instead of loopback. */
  serveOnLan: boolean;
  api: {
    port: number;
    /** Address the control API listens on. */
    bind: string;
    /** Bearer token for mutating endpoints. Secret: never sent by the API. */
    token: string;
    /** Extra Host header names accepted (besides IPs, localhost and the mDNS name). */
    allowedHosts: string[];
  };
  services: Record<string, ServiceSettings>;
  models: {
    /** Ollama models hibernation loads once Ollama is ready and after every wake (when nothing was learned). */
    preload: string[];
    /**
     * How many of the models the phone asked for most recently (seen by the front door) are
     * preloaded instead of `preload`; 0 = always `preload`.
     */
    learnedPreload: number;
  };
  /** The front door on the public service ports (main/core/frontdoor/README.md). */
  frontDoor: FrontDoorSettings;
  hibernation: {
    enabled: boolean;
    warmAfterSeconds: number;
    coolAfterSeconds: number;
    coldAfterSeconds: number;
    dormantAfterSeconds: number;
    /** Keep the OS from sleeping while the host is active or warm. */
    preventSleep: boolean;
    /** Per service id: from which state it is stopped / its models unloaded (see HibernationPolicy). */
    policy: Record<string, HibernationPolicy>;
  };
  gpu: {
    activeIntervalSeconds: number;
    warmIntervalSeconds: number;
    coldIntervalSeconds: number;
  };
  discovery: {
    advertise: boolean;
    /** Interface names to advertise on; empty means every up, non-loopback interface. */
    interfaces: string[];
    /**
     * The pair's shared host name, without `.local`: the serving host answers `<sharedName>.local`
     * (the address to type in the app). Each pair on one LAN needs its own.
     */
    sharedName: string;
    /** Also advertise IPv6 (AAAA) addresses. Off: the app builds `http://host:port` without brackets. */
    ipv6: boolean;
  };
  pairing: {
    pairId: string | null;
    peers: PairedPeer[];
    heartbeatIntervalMs: number;
    failbackHoldDownSeconds: number;
    /** Failback waits while the serving fallback saw activity within this many seconds. */
    sessionIdleSeconds: number;
  };
  notifications: {
    serviceFailed: boolean;
    failover: boolean;
    pairing: boolean;
    modelTooBig: boolean;
  };
  startAtLogin: boolean;
  supervisor: SupervisorSettings;
  /** The app's audio API on the TTS ports (main/core/frontdoor/audio). */
  audio: {
    /**
     * The OpenAI voice names the app sends (`nova`, `alloy`, …) → installed Piper voices
     * (`en_US-amy-medium`). A name not in the table, mapped to "" or to a voice that is not
     * installed uses the voice Piper was started with (services.piper.options.voice).
     */
    piperVoices: Record<string, string>;
  };
}

const ROLE_DEFAULT_PRIO: Record<Role, number> = { primary: 200, fallback: 100 };

export function effectivePrio(s: Pick<Settings, 'prio' | 'role'>): number {
  return s.prio ?? ROLE_DEFAULT_PRIO[s.role];
}

export interface HostFacts {
  platform: NodeJS.Platform;
  hostname: string;
}

/** Defaults for a new host. The Mac is the primary; everything else starts as the fallback. */
export function defaultSettings(facts: HostFacts, ids: { hostId: string; token: string }): Settings {
  return {
    schemaVersion: 1,
    hostId: ids.hostId,
    displayName: '',
    role: facts.platform === 'darwin' ? 'primary' : 'fallback',
    prio: null,
    serveOnLan: true,
    api: { port: 11400, bind: '0.0.0.0', token: ids.token, allowedHosts: [] },
    services: {},
    models: { preload: ['mistral:7b'], learnedPreload: 1 },
    frontDoor: { enabled: true, maxHeldRequests: 64, maxHoldSeconds: 90, allowFrom: 'lan', llmKey: '' },
    hibernation: {
      enabled: true,
      warmAfterSeconds: 30,
      coolAfterSeconds: 300,
      coldAfterSeconds: 1800,
      dormantAfterSeconds: 7200,
      preventSleep: true,
      // CONTRACT §4: cool stops VibeVoice (it has no unload API); cold unloads Ollama's models
      // and stops the TTS/STT model holders; dormant stops the rest.
      policy: {
        ollama: { unloadAt: 'cold', stopAt: 'dormant' },
        vibevoice: { stopAt: 'cool' },
        piper: { stopAt: 'cold' },
        whisper: { stopAt: 'cold' },
      },
    },
    gpu: { activeIntervalSeconds: 2, warmIntervalSeconds: 10, coldIntervalSeconds: 60 },
    discovery: { advertise: true, interfaces: [], sharedName: 'unamentis', ipv6: false },
    pairing: {
      pairId: null,
      peers: [],
      heartbeatIntervalMs: 1000,
      failbackHoldDownSeconds: 10,
      sessionIdleSeconds: 60,
    },
    notifications: { serviceFailed: true, failover: true, pairing: true, modelTooBig: true },
    startAtLogin: false,
    supervisor: {
      stopTimeoutSeconds: 5,
      crashLoopCount: 5,
      crashLoopWindowSeconds: 60,
      hungAfterFailures: 3,
      healthIntervalSeconds: 5,
    },
    audio: {
      // Female OpenAI voices → female Piper voices, male → male; all 22050 Hz (`-medium`), the rate
      // the app plays Piper at. Not installed → Piper's own voice.
      piperVoices: {
        alloy: 'en_US-lessac-medium',
        ash: 'en_US-ryan-medium',
        ballad: 'en_GB-alan-medium',
        coral: 'en_US-kristin-medium',
        echo: 'en_US-ryan-medium',
        fable: 'en_GB-alan-medium',
        nova: 'en_US-amy-medium',
        onyx: 'en_US-joe-medium',
        sage: 'en_US-lessac-medium',
        shimmer: 'en_US-kristin-medium',
        verse: 'en_US-joe-medium',
      },
    },
  };
}

/** Fields the API never returns. */
export const SECRET_FIELDS = ['api.token', 'pairing.peers[].key'] as const;
/** Fields the API refuses to change. */
export const READ_ONLY_FIELDS = ['schemaVersion', 'hostId', 'api.token', 'pairing'] as const;

const uuid = { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const seconds = { type: 'number', minimum: 1, maximum: 7 * 24 * 3600 } as const;
const shortString = { type: 'string', maxLength: 1024 } as const;

const serviceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    enabled: { type: 'boolean' },
    command: shortString,
    args: { type: 'array', items: shortString, maxItems: 64 },
    env: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: shortString,
    },
    cwd: shortString,
    port,
    options: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    healthPath: { type: 'string', pattern: '^/', maxLength: 256 },
    startTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
    stopTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 600 },
  },
} as const;

export const settingsJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'hostId',
    'displayName',
    'role',
    'prio',
    'serveOnLan',
    'api',
    'services',
    'models',
    'hibernation',
    'gpu',
    'discovery',
    'pairing',
    'notifications',
    'startAtLogin',
  ],
  properties: {
    schemaVersion: { const: 1 },
    hostId: uuid,
    displayName: { type: 'string', maxLength: 63 },
    role: { enum: ['primary', 'fallback'] },
    prio: { type: ['integer', 'null'], minimum: 0, maximum: 255 },
    serveOnLan: { type: 'boolean' },
    api: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'bind', 'token', 'allowedHosts'],
      properties: {
        port,
        bind: { type: 'string', minLength: 1, maxLength: 64 },
        token: { type: 'string', minLength: 16, maxLength: 256 },
        allowedHosts: { type: 'array', items: { type: 'string', maxLength: 253 }, maxItems: 32 },
      },
    },
    services: {
      type: 'object',
      propertyNames: { pattern: SERVICE_ID_PATTERN },
      additionalProperties: serviceSchema,
    },
    models: {
      type: 'object',
      additionalProperties: false,
      required: ['preload'],
      properties: {
        preload: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 16 },
        learnedPreload: { type: 'integer', minimum: 0, maximum: 8 },
      },
    },
    frontDoor: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'maxHeldRequests', 'maxHoldSeconds', 'allowFrom', 'llmKey'],
      properties: {
        enabled: { type: 'boolean' },
        maxHeldRequests: { type: 'integer', minimum: 1, maximum: 10_000 },
        maxHoldSeconds: { type: 'number', minimum: 1, maximum: 3600 },
        allowFrom: { enum: ['lan', 'any'] },
        llmKey: { type: 'string', maxLength: 256 },
      },
    },
    hibernation: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'warmAfterSeconds', 'coolAfterSeconds', 'coldAfterSeconds', 'dormantAfterSeconds'],
      properties: {
        enabled: { type: 'boolean' },
        warmAfterSeconds: seconds,
        coolAfterSeconds: seconds,
        coldAfterSeconds: seconds,
        dormantAfterSeconds: seconds,
        preventSleep: { type: 'boolean' },
        policy: {
          type: 'object',
          propertyNames: { pattern: SERVICE_ID_PATTERN },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: {
              stopAt: { enum: ['warm', 'cool', 'cold', 'dormant', 'never'] },
              unloadAt: { enum: ['warm', 'cool', 'cold', 'dormant', 'never'] },
            },
          },
        },
      },
    },
    gpu: {
      type: 'object',
      additionalProperties: false,
      required: ['activeIntervalSeconds', 'warmIntervalSeconds', 'coldIntervalSeconds'],
      properties: {
        activeIntervalSeconds: { type: 'number', minimum: 0.5, maximum: 3600 },
        warmIntervalSeconds: { type: 'number', minimum: 0.5, maximum: 3600 },
        coldIntervalSeconds: { type: 'number', minimum: 0.5, maximum: 3600 },
      },
    },
    discovery: {
      type: 'object',
      additionalProperties: false,
      required: ['advertise', 'interfaces', 'sharedName', 'ipv6'],
      properties: {
        advertise: { type: 'boolean' },
        interfaces: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 32 },
        // One DNS label (RFC 1035 letters, digits, hyphens): it is typed on a phone.
        sharedName: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$' },
        ipv6: { type: 'boolean' },
      },
    },
    pairing: {
      type: 'object',
      additionalProperties: false,
      required: ['pairId', 'peers', 'heartbeatIntervalMs', 'failbackHoldDownSeconds', 'sessionIdleSeconds'],
      properties: {
        pairId: { type: ['string', 'null'], maxLength: 64 },
        peers: {
          type: 'array',
          maxItems: 16,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'role', 'prio', 'key', 'addresses', 'port', 'pairedAt'],
            properties: {
              id: uuid,
              name: { type: 'string', maxLength: 255 },
              role: { enum: ['primary', 'fallback'] },
              prio: { type: 'integer', minimum: 0, maximum: 255 },
              key: { type: 'string', minLength: 16, maxLength: 256 },
              addresses: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 16 },
              port,
              pairedAt: { type: 'string', maxLength: 64 },
            },
          },
        },
        heartbeatIntervalMs: { type: 'integer', minimum: 100, maximum: 60_000 },
        failbackHoldDownSeconds: { type: 'number', minimum: 0, maximum: 3600 },
        sessionIdleSeconds: { type: 'number', minimum: 0, maximum: 3600 },
      },
    },
    notifications: {
      type: 'object',
      additionalProperties: false,
      required: ['serviceFailed', 'failover', 'pairing', 'modelTooBig'],
      properties: {
        serviceFailed: { type: 'boolean' },
        failover: { type: 'boolean' },
        pairing: { type: 'boolean' },
        modelTooBig: { type: 'boolean' },
      },
    },
    startAtLogin: { type: 'boolean' },
    supervisor: {
      type: 'object',
      additionalProperties: false,
      required: ['stopTimeoutSeconds', 'crashLoopCount', 'crashLoopWindowSeconds', 'hungAfterFailures', 'healthIntervalSeconds'],
      properties: {
        stopTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 600 },
        crashLoopCount: { type: 'integer', minimum: 1, maximum: 100 },
        crashLoopWindowSeconds: { type: 'number', minimum: 1, maximum: 3600 },
        hungAfterFailures: { type: 'integer', minimum: 1, maximum: 100 },
        healthIntervalSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
      },
    },
    audio: {
      type: 'object',
      additionalProperties: false,
      required: ['piperVoices'],
      properties: {
        piperVoices: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
          // A voice name is a file name in Piper's data folder: no path separators.
          additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 128 },
        },
      },
    },
  },
} as const;
