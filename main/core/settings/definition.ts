// The one settings definition. Each field is written once, with its type, limits, default and a
// description; from it come the TypeScript types (`Static`), the JSON Schema that validates the file
// and API writes (a TypeBox schema is plain JSON Schema), the defaults, and the dashboard's help
// text. The core imports only its types: at run time it reads the same schema from json-schema.ts,
// which `npm run settings:schema` writes from this file (test/unit/settings-form.test.ts checks it
// is current), so starting the server never loads TypeBox (~50 ms of CPU).

import {
  Type,
  type SchemaOptions,
  type Static,
  type TProperties,
  type TSchema,
} from '@sinclair/typebox';
import { SERVICE_ID_PATTERN, type Role } from '../contract.js';

// Building blocks that write the JSON Schema the way ajv's messages (store.ts) read best.

/** An object that refuses unknown keys ("is not a known setting"). */
const Group = <P extends TProperties>(properties: P, opts: SchemaOptions = {}) =>
  Type.Object(properties, { ...opts, additionalProperties: false });

/** One of a few values as `enum` (a union of literals would be `anyOf`, and ajv would say "must be equal to constant"). */
const OneOf = <const T extends string>(values: readonly T[], opts: SchemaOptions = {}) =>
  Type.Unsafe<T>({ ...opts, enum: [...values] });

/** A map whose keys have a given form: `propertyNames` names a bad key in the error (`patternProperties` would not). */
const Dict = <V extends TSchema>(keys: object | null, value: V, opts: SchemaOptions = {}) =>
  Type.Unsafe<Record<string, Static<V>>>({
    ...opts,
    type: 'object',
    ...(keys ? { propertyNames: keys } : {}),
    additionalProperties: value,
  });

/** A value or null, as one `type` list (not `anyOf`): ajv then says "must be a whole number or empty". */
const OrNull = <T>(type: 'integer' | 'string', opts: SchemaOptions) =>
  Type.Unsafe<T | null>({ ...opts, type: [type, 'null'] });

const ROLES = ['primary', 'fallback'] as const satisfies readonly Role[];
const LEVELS = ['warm', 'cool', 'cold', 'dormant', 'never'] as const;
const uuid = (opts: SchemaOptions = {}) => Type.String({ ...opts, pattern: '^[0-9a-fA-F-]{36}$' });
const port = (opts: SchemaOptions = {}) => Type.Integer({ ...opts, minimum: 1, maximum: 65535 });
const seconds = (opts: SchemaOptions = {}) =>
  Type.Number({ ...opts, minimum: 1, maximum: 7 * 24 * 3600 });
const shortString = (opts: SchemaOptions = {}) => Type.String({ ...opts, maxLength: 1024 });
const bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });

/** One service's overrides; every field is optional (presets supply the rest). */
const ServiceSchema = Group({
  name: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Shown in the dashboard and the tray; presets supply one.',
    }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'Off: the service is never started.' })),
  command: Type.Optional(
    shortString({
      description:
        'The executable or interpreter (e.g. a venv’s python): an absolute path, or a name looked up on PATH.',
    }),
  ),
  args: Type.Optional(
    Type.Array(shortString(), {
      maxItems: 64,
      description: 'The full argument list after the program, one per line; replaces the preset’s.',
    }),
  ),
  env: Type.Optional(
    Dict({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, shortString(), {
      description: 'Extra environment variables for the program, KEY=value.',
    }),
  ),
  cwd: Type.Optional(shortString({ description: 'The folder the program starts in.' })),
  port: Type.Optional(port({ description: 'The port the program listens on.' })),
  options: Type.Optional(
    Dict(null, Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] }), {
      description: 'Preset options such as the model path, voice or device.',
    }),
  ),
  healthPath: Type.Optional(
    Type.String({
      pattern: '^/',
      maxLength: 256,
      description:
        'The HTTP path whose 2xx answer means healthy (services you add; presets know their own).',
    }),
  ),
  startTimeoutSeconds: Type.Optional(
    Type.Number({
      minimum: 0.1,
      maximum: 3600,
      description:
        'How long a start may take before the service counts as hung (presets: 60–600 s).',
    }),
  ),
  stopTimeoutSeconds: Type.Optional(
    Type.Number({
      minimum: 0.1,
      maximum: 600,
      description:
        'Grace between asking the program to stop and killing its process tree (default: the supervision setting).',
    }),
  ),
});

/** What hibernation does to one service. A service without an entry is stopped at `dormant`; stopping also unloads. */
const HibernationPolicySchema = Group({
  stopAt: Type.Optional(
    OneOf(LEVELS, { description: 'The idle state from which hibernation stops this service.' }),
  ),
  unloadAt: Type.Optional(
    OneOf(LEVELS, {
      description:
        'The idle state from which its models are unloaded (services with an unload API, such as Ollama).',
    }),
  ),
});

const PairedPeerSchema = Group({
  id: uuid(),
  name: Type.String({ maxLength: 255 }),
  role: OneOf(ROLES),
  prio: Type.Integer({ minimum: 0, maximum: 255 }),
  /** base64 shared key for this pair. Secret: never sent by the API. */
  key: Type.String({ minLength: 16, maxLength: 256 }),
  addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 }),
  port: port(),
  pairedAt: Type.String({ maxLength: 64 }),
});

export const SettingsSchema = Group({
  schemaVersion: Type.Literal(1, { default: 1 }),
  hostId: uuid({
    description: 'Stable host id (mDNS `id`): made once, survives restarts and renames.',
  }),
  displayName: Type.String({
    maxLength: 63,
    default: '',
    description: 'Shown to the iPhone and on the network. Blank uses the computer’s name.',
  }),
  // No default: a Mac starts as the primary, everything else as the fallback (defaultSettings).
  role: OneOf(ROLES, {
    description:
      'The primary serves whenever it is awake; a fallback takes over while the primary is away.',
  }),
  prio: OrNull<number>('integer', {
    minimum: 0,
    maximum: 255,
    default: null,
    description:
      '0–255; the highest ready host serves. Blank: 200 for a primary, 100 for a fallback.',
  }),
  serveOnLan: bool(
    true,
    'The iPhone needs this. Off: the service ports answer this computer only.',
  ),
  api: Group({
    port: port({
      default: 11400,
      description: 'The control API and dashboard port. Restart the app after changing it.',
    }),
    bind: Type.String({
      minLength: 1,
      maxLength: 64,
      default: '0.0.0.0',
      description: '0.0.0.0 = every interface; 127.0.0.1 = this computer only.',
    }),
    // No default: a new random token per host (defaultSettings). Secret: never sent by the API.
    token: Type.String({
      minLength: 16,
      maxLength: 256,
      description: 'Bearer token for every mutating endpoint and the private reads.',
    }),
    allowedHosts: Type.Array(Type.String({ maxLength: 253 }), {
      maxItems: 32,
      default: [],
      description:
        'Extra Host header names accepted, besides IP addresses, localhost and the mDNS names (DNS-rebinding protection).',
    }),
  }),
  services: Dict({ pattern: SERVICE_ID_PATTERN }, ServiceSchema, {
    default: {},
    description: 'Per-service overrides of the presets, by service id.',
  }),
  models: Group({
    preload: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      maxItems: 16,
      default: ['mistral:7b'],
      description:
        'Ollama models loaded when Ollama is ready and after every wake, until the phone has asked for a model. One per line.',
    }),
    learnedPreload: Type.Integer({
      minimum: 0,
      maximum: 8,
      default: 1,
      description:
        'Preload this many of the models the phone asked for most recently instead of the list above; 0 = always the list.',
    }),
  }),
  /** The front door on the public service ports (main/core/frontdoor/README.md). */
  frontDoor: Group({
    enabled: bool(
      true,
      'Requests to 11434, 8880, 11402 and 11401 pass through UnaMentis: they wake a sleeping service and count as use.',
    ),
    maxHeldRequests: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 64,
      description: 'Requests held at once per service while it wakes; more are answered 503.',
    }),
    maxHoldSeconds: Type.Number({
      minimum: 1,
      maximum: 3600,
      default: 90,
      description:
        'How long a request waits for its service to wake; then it is answered 503 with Retry-After.',
    }),
    allowFrom: OneOf(['lan', 'any'], {
      default: 'lan',
      description:
        'Local network: loopback, private and link-local addresses only (others get 403).',
    }),
    llmKey: Type.String({
      maxLength: 256,
      default: '',
      description:
        'Blank: none. When set, the LLM port needs it as the API key (Authorization: Bearer).',
    }),
  }),
  hibernation: Group({
    enabled: bool(true, 'Stop and unload services step by step while nobody uses them.'),
    warmAfterSeconds: seconds({
      default: 30,
      description: 'Idle time before the host counts as warm.',
    }),
    coolAfterSeconds: seconds({
      default: 300,
      description: 'Idle time before cool: stops VibeVoice.',
    }),
    coldAfterSeconds: seconds({
      default: 1800,
      description: 'Idle time before cold: unloads every model.',
    }),
    dormantAfterSeconds: seconds({
      default: 7200,
      description: 'Idle time before dormant: stops every service.',
    }),
    preventSleep: bool(true, 'Keep the OS from sleeping while the host is active or warm.'),
    policy: Dict({ pattern: SERVICE_ID_PATTERN }, HibernationPolicySchema, {
      description: 'Per service id: from which idle state it is stopped and its models unloaded.',
      // CONTRACT §4: cool stops VibeVoice (it has no unload API); cold unloads Ollama's models
      // and stops the TTS/STT model holders; dormant stops the rest.
      default: {
        ollama: { unloadAt: 'cold', stopAt: 'dormant' },
        vibevoice: { stopAt: 'cool' },
        piper: { stopAt: 'cold' },
        whisper: { stopAt: 'cold' },
      },
    }),
  }),
  gpu: Group({
    activeIntervalSeconds: Type.Number({
      minimum: 0.5,
      maximum: 3600,
      default: 2,
      description: 'GPU sampling interval while the host is active.',
    }),
    warmIntervalSeconds: Type.Number({
      minimum: 0.5,
      maximum: 3600,
      default: 10,
      description: 'GPU sampling interval while warm.',
    }),
    coldIntervalSeconds: Type.Number({
      minimum: 0.5,
      maximum: 3600,
      default: 60,
      description: 'GPU sampling interval while cool (cold and dormant: only on demand).',
    }),
  }),
  discovery: Group({
    advertise: bool(
      true,
      'Announce this computer with mDNS so the app and the paired computer find it.',
    ),
    interfaces: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      maxItems: 32,
      default: [],
      description: 'Interface names to advertise on; blank means every up, non-loopback interface.',
    }),
    // One DNS label (RFC 1035 letters, digits, hyphens): it is typed on a phone.
    sharedName: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$',
      default: 'unamentis',
      description:
        'The pair’s shared name without .local: the serving computer answers <name>.local, the address to type in the app. Each pair on one network needs its own.',
    }),
    ipv6: bool(
      false,
      'Also advertise IPv6 addresses. Off: the app builds http://host:port without brackets.',
    ),
  }),
  pairing: Group({
    pairId: OrNull<string>('string', { maxLength: 64, default: null }),
    peers: Type.Array(PairedPeerSchema, { maxItems: 16, default: [] }),
    heartbeatIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
    failbackHoldDownSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 10 }),
    /** Failback waits while the serving fallback saw activity within this many seconds. */
    sessionIdleSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 60 }),
  }),
  notifications: Group({
    serviceFailed: bool(true, 'A service failed and will not be restarted.'),
    failover: bool(true, 'The other computer of the pair took over, or handed back.'),
    pairing: bool(true, 'Another computer asks to pair (the notice shows its code).'),
    modelTooBig: bool(true, 'A model does not fit in the GPU’s memory.'),
  }),
  startAtLogin: bool(false, 'Start UnaMentis Server when you log in.'),
  /** How the supervisor treats crashes, hangs and stops (issue 3). */
  supervisor: Group({
    stopTimeoutSeconds: Type.Number({
      minimum: 0.1,
      maximum: 600,
      default: 5,
      description: 'Grace between asking a program to stop and killing its process tree.',
    }),
    crashLoopCount: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description:
        'This many crashes within the window below make a service “failed” (no more restarts).',
    }),
    crashLoopWindowSeconds: Type.Number({
      minimum: 1,
      maximum: 3600,
      default: 60,
      description: 'The window for counting crashes.',
    }),
    hungAfterFailures: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'A running service that fails this many health checks in a row is restarted.',
    }),
    healthIntervalSeconds: Type.Number({
      minimum: 0.1,
      maximum: 3600,
      default: 5,
      description:
        'Time between health checks of a running service (after a failed one, the next comes in 1 s).',
    }),
  }),
  /** The app's audio API on the TTS ports (main/core/frontdoor/audio). */
  audio: Group({
    // A voice name is a file name in Piper's data folder: no path separators.
    piperVoices: Type.Unsafe<Record<string, string>>({
      type: 'object',
      maxProperties: 64,
      propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 128 },
      description:
        'The app’s OpenAI voice names (nova, alloy, …) → installed Piper voices (en_US-amy-medium). A name not listed, mapped to nothing or to a voice that is not installed uses the voice Piper was started with.',
      // Female OpenAI voices → female Piper voices, male → male; all 22050 Hz (`-medium`), the rate
      // the app plays Piper at. Not installed → Piper's own voice.
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
    }),
  }),
});

export type Settings = Static<typeof SettingsSchema>;
export type ServiceSettings = Static<typeof ServiceSchema>;
export type HibernationPolicy = Static<typeof HibernationPolicySchema>;
export type PairedPeer = Static<typeof PairedPeerSchema>;
