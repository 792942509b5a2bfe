// Written by `npm run settings:schema` from definition.ts: do not edit (change definition.ts).
// The settings JSON Schema as plain data: what ajv compiles (store.ts) and the defaults come from.

/** A JSON Schema node, as far as the settings code reads one. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  [keyword: string]: unknown;
}

export const settingsJsonSchema: JsonSchema = {
  additionalProperties: false,
  type: 'object',
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
    'frontDoor',
    'hibernation',
    'gpu',
    'discovery',
    'pairing',
    'notifications',
    'startAtLogin',
    'supervisor',
    'audio',
  ],
  properties: {
    schemaVersion: { default: 1, const: 1, type: 'number' },
    hostId: {
      description: 'Stable host id (mDNS `id`): made once, survives restarts and renames.',
      pattern: '^[0-9a-fA-F-]{36}$',
      type: 'string',
    },
    displayName: {
      maxLength: 63,
      default: '',
      description: 'Shown to the iPhone and on the network. Blank uses the computer’s name.',
      type: 'string',
    },
    role: {
      description:
        'The primary serves whenever it is awake; a fallback takes over while the primary is away.',
      enum: ['primary', 'fallback'],
    },
    prio: {
      minimum: 0,
      maximum: 255,
      default: null,
      description:
        '0–255; the highest ready host serves. Blank: 200 for a primary, 100 for a fallback.',
      type: ['integer', 'null'],
    },
    serveOnLan: {
      default: true,
      description: 'The iPhone needs this. Off: the service ports answer this computer only.',
      type: 'boolean',
    },
    api: {
      additionalProperties: false,
      type: 'object',
      required: ['port', 'bind', 'token', 'allowedHosts'],
      properties: {
        port: {
          default: 11400,
          description: 'The control API and dashboard port. Restart the app after changing it.',
          minimum: 1,
          maximum: 65535,
          type: 'integer',
        },
        bind: {
          minLength: 1,
          maxLength: 64,
          default: '0.0.0.0',
          description: '0.0.0.0 = every interface; 127.0.0.1 = this computer only.',
          type: 'string',
        },
        token: {
          minLength: 16,
          maxLength: 256,
          description: 'Bearer token for every mutating endpoint and the private reads.',
          type: 'string',
        },
        allowedHosts: {
          maxItems: 32,
          default: [],
          description:
            'Extra Host header names accepted, besides IP addresses, localhost and the mDNS names (DNS-rebinding protection).',
          type: 'array',
          items: { maxLength: 253, type: 'string' },
        },
      },
    },
    services: {
      default: {},
      description: 'Per-service overrides of the presets, by service id.',
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9-]{0,31}$' },
      additionalProperties: {
        additionalProperties: false,
        type: 'object',
        properties: {
          name: {
            minLength: 1,
            maxLength: 64,
            description: 'Shown in the dashboard and the tray; presets supply one.',
            type: 'string',
          },
          enabled: { description: 'Off: the service is never started.', type: 'boolean' },
          command: {
            description:
              'The executable or interpreter (e.g. a venv’s python): an absolute path, or a name looked up on PATH.',
            maxLength: 1024,
            type: 'string',
          },
          args: {
            maxItems: 64,
            description:
              'The full argument list after the program, one per line; replaces the preset’s.',
            type: 'array',
            items: { maxLength: 1024, type: 'string' },
          },
          env: {
            description: 'Extra environment variables for the program, KEY=value.',
            type: 'object',
            propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
            additionalProperties: { maxLength: 1024, type: 'string' },
          },
          cwd: {
            description: 'The folder the program starts in.',
            maxLength: 1024,
            type: 'string',
          },
          port: {
            description: 'The port the program listens on.',
            minimum: 1,
            maximum: 65535,
            type: 'integer',
          },
          options: {
            description: 'Preset options such as the model path, voice or device.',
            type: 'object',
            additionalProperties: { type: ['string', 'number', 'boolean'] },
          },
          healthPath: {
            pattern: '^/',
            maxLength: 256,
            description:
              'The HTTP path whose 2xx answer means healthy (services you add; presets know their own).',
            type: 'string',
          },
          startTimeoutSeconds: {
            minimum: 0.1,
            maximum: 3600,
            description:
              'How long a start may take before the service counts as hung (presets: 60–600 s).',
            type: 'number',
          },
          stopTimeoutSeconds: {
            minimum: 0.1,
            maximum: 600,
            description:
              'Grace between asking the program to stop and killing its process tree (default: the supervision setting).',
            type: 'number',
          },
        },
      },
    },
    models: {
      additionalProperties: false,
      type: 'object',
      required: ['preload', 'learnedPreload'],
      properties: {
        preload: {
          maxItems: 16,
          default: ['mistral:7b'],
          description:
            'Ollama models loaded when Ollama is ready and after every wake, until the phone has asked for a model. One per line.',
          type: 'array',
          items: { minLength: 1, maxLength: 200, type: 'string' },
        },
        learnedPreload: {
          minimum: 0,
          maximum: 8,
          default: 1,
          description:
            'Preload this many of the models the phone asked for most recently instead of the list above; 0 = always the list.',
          type: 'integer',
        },
      },
    },
    frontDoor: {
      additionalProperties: false,
      type: 'object',
      required: ['enabled', 'maxHeldRequests', 'maxHoldSeconds', 'allowFrom', 'llmKey'],
      properties: {
        enabled: {
          default: true,
          description:
            'Requests to 11434, 8880, 11402 and 11401 pass through UnaMentis: they wake a sleeping service and count as use.',
          type: 'boolean',
        },
        maxHeldRequests: {
          minimum: 1,
          maximum: 10000,
          default: 64,
          description: 'Requests held at once per service while it wakes; more are answered 503.',
          type: 'integer',
        },
        maxHoldSeconds: {
          minimum: 1,
          maximum: 3600,
          default: 90,
          description:
            'How long a request waits for its service to wake; then it is answered 503 with Retry-After.',
          type: 'number',
        },
        allowFrom: {
          default: 'lan',
          description:
            'Local network: loopback, private and link-local addresses only (others get 403).',
          enum: ['lan', 'any'],
        },
        llmKey: {
          maxLength: 256,
          default: '',
          description:
            'Blank: none. When set, the LLM port needs it as the API key (Authorization: Bearer).',
          type: 'string',
        },
      },
    },
    hibernation: {
      additionalProperties: false,
      type: 'object',
      required: [
        'enabled',
        'warmAfterSeconds',
        'coolAfterSeconds',
        'coldAfterSeconds',
        'dormantAfterSeconds',
        'preventSleep',
        'policy',
      ],
      properties: {
        enabled: {
          default: true,
          description: 'Stop and unload services step by step while nobody uses them.',
          type: 'boolean',
        },
        warmAfterSeconds: {
          default: 30,
          description: 'Idle time before the host counts as warm.',
          minimum: 1,
          maximum: 604800,
          type: 'number',
        },
        coolAfterSeconds: {
          default: 300,
          description: 'Idle time before cool: stops VibeVoice.',
          minimum: 1,
          maximum: 604800,
          type: 'number',
        },
        coldAfterSeconds: {
          default: 1800,
          description: 'Idle time before cold: unloads every model.',
          minimum: 1,
          maximum: 604800,
          type: 'number',
        },
        dormantAfterSeconds: {
          default: 7200,
          description: 'Idle time before dormant: stops every service.',
          minimum: 1,
          maximum: 604800,
          type: 'number',
        },
        preventSleep: {
          default: true,
          description: 'Keep the OS from sleeping while the host is active or warm.',
          type: 'boolean',
        },
        policy: {
          description:
            'Per service id: from which idle state it is stopped and its models unloaded.',
          default: {
            ollama: { unloadAt: 'cold', stopAt: 'dormant' },
            vibevoice: { stopAt: 'cool' },
            piper: { stopAt: 'cold' },
            whisper: { stopAt: 'cold' },
          },
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9-]{0,31}$' },
          additionalProperties: {
            additionalProperties: false,
            type: 'object',
            properties: {
              stopAt: {
                description: 'The idle state from which hibernation stops this service.',
                enum: ['warm', 'cool', 'cold', 'dormant', 'never'],
              },
              unloadAt: {
                description:
                  'The idle state from which its models are unloaded (services with an unload API, such as Ollama).',
                enum: ['warm', 'cool', 'cold', 'dormant', 'never'],
              },
            },
          },
        },
      },
    },
    gpu: {
      additionalProperties: false,
      type: 'object',
      required: ['activeIntervalSeconds', 'warmIntervalSeconds', 'coldIntervalSeconds'],
      properties: {
        activeIntervalSeconds: {
          minimum: 0.5,
          maximum: 3600,
          default: 2,
          description: 'GPU sampling interval while the host is active.',
          type: 'number',
        },
        warmIntervalSeconds: {
          minimum: 0.5,
          maximum: 3600,
          default: 10,
          description: 'GPU sampling interval while warm.',
          type: 'number',
        },
        coldIntervalSeconds: {
          minimum: 0.5,
          maximum: 3600,
          default: 60,
          description: 'GPU sampling interval while cool (cold and dormant: only on demand).',
          type: 'number',
        },
      },
    },
    discovery: {
      additionalProperties: false,
      type: 'object',
      required: ['advertise', 'interfaces', 'sharedName', 'ipv6'],
      properties: {
        advertise: {
          default: true,
          description:
            'Announce this computer with mDNS so the app and the paired computer find it.',
          type: 'boolean',
        },
        interfaces: {
          maxItems: 32,
          default: [],
          description:
            'Interface names to advertise on; blank means every up, non-loopback interface.',
          type: 'array',
          items: { minLength: 1, maxLength: 64, type: 'string' },
        },
        sharedName: {
          minLength: 1,
          maxLength: 63,
          pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$',
          default: 'unamentis',
          description:
            'The pair’s shared name without .local: the serving computer answers <name>.local, the address to type in the app. Each pair on one network needs its own.',
          type: 'string',
        },
        ipv6: {
          default: false,
          description:
            'Also advertise IPv6 addresses. Off: the app builds http://host:port without brackets.',
          type: 'boolean',
        },
      },
    },
    pairing: {
      additionalProperties: false,
      type: 'object',
      required: [
        'pairId',
        'peers',
        'heartbeatIntervalMs',
        'failbackHoldDownSeconds',
        'sessionIdleSeconds',
      ],
      properties: {
        pairId: { maxLength: 64, default: null, type: ['string', 'null'] },
        peers: {
          maxItems: 16,
          default: [],
          type: 'array',
          items: {
            additionalProperties: false,
            type: 'object',
            required: ['id', 'name', 'role', 'prio', 'key', 'addresses', 'port', 'pairedAt'],
            properties: {
              id: { pattern: '^[0-9a-fA-F-]{36}$', type: 'string' },
              name: { maxLength: 255, type: 'string' },
              role: { enum: ['primary', 'fallback'] },
              prio: { minimum: 0, maximum: 255, type: 'integer' },
              key: { minLength: 16, maxLength: 256, type: 'string' },
              addresses: { maxItems: 16, type: 'array', items: { maxLength: 64, type: 'string' } },
              port: { minimum: 1, maximum: 65535, type: 'integer' },
              pairedAt: { maxLength: 64, type: 'string' },
            },
          },
        },
        heartbeatIntervalMs: { minimum: 100, maximum: 60000, default: 1000, type: 'integer' },
        failbackHoldDownSeconds: { minimum: 0, maximum: 3600, default: 10, type: 'number' },
        sessionIdleSeconds: { minimum: 0, maximum: 3600, default: 60, type: 'number' },
      },
    },
    notifications: {
      additionalProperties: false,
      type: 'object',
      required: ['serviceFailed', 'failover', 'pairing', 'modelTooBig'],
      properties: {
        serviceFailed: {
          default: true,
          description: 'A service failed and will not be restarted.',
          type: 'boolean',
        },
        failover: {
          default: true,
          description: 'The other computer of the pair took over, or handed back.',
          type: 'boolean',
        },
        pairing: {
          default: true,
          description: 'Another computer asks to pair (the notice shows its code).',
          type: 'boolean',
        },
        modelTooBig: {
          default: true,
          description: 'A model does not fit in the GPU’s memory.',
          type: 'boolean',
        },
      },
    },
    startAtLogin: {
      default: false,
      description: 'Start UnaMentis Server when you log in.',
      type: 'boolean',
    },
    supervisor: {
      additionalProperties: false,
      type: 'object',
      required: [
        'stopTimeoutSeconds',
        'crashLoopCount',
        'crashLoopWindowSeconds',
        'hungAfterFailures',
        'healthIntervalSeconds',
      ],
      properties: {
        stopTimeoutSeconds: {
          minimum: 0.1,
          maximum: 600,
          default: 5,
          description: 'Grace between asking a program to stop and killing its process tree.',
          type: 'number',
        },
        crashLoopCount: {
          minimum: 1,
          maximum: 100,
          default: 5,
          description:
            'This many crashes within the window below make a service “failed” (no more restarts).',
          type: 'integer',
        },
        crashLoopWindowSeconds: {
          minimum: 1,
          maximum: 3600,
          default: 60,
          description: 'The window for counting crashes.',
          type: 'number',
        },
        hungAfterFailures: {
          minimum: 1,
          maximum: 100,
          default: 3,
          description:
            'A running service that fails this many health checks in a row is restarted.',
          type: 'integer',
        },
        healthIntervalSeconds: {
          minimum: 0.1,
          maximum: 3600,
          default: 5,
          description:
            'Time between health checks of a running service (after a failed one, the next comes in 1 s).',
          type: 'number',
        },
      },
    },
    audio: {
      additionalProperties: false,
      type: 'object',
      required: ['piperVoices'],
      properties: {
        piperVoices: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
          additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 128 },
          description:
            'The app’s OpenAI voice names (nova, alloy, …) → installed Piper voices (en_US-amy-medium). A name not listed, mapped to nothing or to a voice that is not installed uses the voice Piper was started with.',
          default: {
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
      },
    },
  },
};
