// The status snapshot of CONTRACT.md §3: what /api/status, SSE, the tray, the dashboard and the
// mDNS TXT record all render. Types and pure values only (no runtime imports), so the renderer may
// import them too: the only shared file between the core and the dashboard.
// Additive changes only; renaming or removing a field needs a contract `v` bump.

/** GET /api/settings: the settings without the API token and the pairing keys. */
export type { RedactedSettings } from './settings/store.js';

/**
 * A path into the settings the dashboard edits (`['api', 'port']`, `['services', id, 'command']`):
 * a path the settings type does not have is a compile error.
 */
export type SettingsPath<T = import('./settings/store.js').RedactedSettings> =
  T extends readonly unknown[]
    ? never
    : T extends object
      ? { [K in keyof T & string]-?: [K] | [K, ...SettingsPath<NonNullable<T[K]>>] }[keyof T &
          string]
      : never;

/**
 * The settings JSON Schema trimmed to what the settings form reads (main/core/settings/form.ts):
 * each field's type, allowed values, whether it may be absent, and its description (the help text).
 */
export interface SettingsFieldSchema {
  type?: string | string[];
  enum?: (string | number)[];
  description?: string;
  required?: string[];
  properties?: Record<string, SettingsFieldSchema>;
  additionalProperties?: SettingsFieldSchema;
  items?: SettingsFieldSchema;
}

export type HibernationState = 'active' | 'warm' | 'cool' | 'cold' | 'dormant';
export const HIBERNATION_STATES: readonly HibernationState[] = [
  'active',
  'warm',
  'cool',
  'cold',
  'dormant',
];

export type Role = 'primary' | 'fallback';

export type ServiceStatus =
  'disabled' | 'stopped' | 'starting' | 'running' | 'unhealthy' | 'backoff' | 'failed' | 'external';

// Which statuses count as up, named once (each caller used to keep its own set). Pure values, so
// the renderer may import them too.

/** The service answers on its port: our process is up, or another program serves it. */
export const ANSWERING_STATUSES: ReadonlySet<ServiceStatus> = new Set<ServiceStatus>([
  'running',
  'external',
]);

/** A process holds the port (ours starting or up, or another program's): its pid and GPU memory count. */
export const PROCESS_STATUSES: ReadonlySet<ServiceStatus> = new Set<ServiceStatus>([
  'starting',
  'running',
  'unhealthy',
  'external',
]);

/** Our own process is up or on its way back (a stop has something to stop; the tray offers Stop). */
export const OURS_UP_STATUSES: ReadonlySet<ServiceStatus> = new Set<ServiceStatus>([
  'starting',
  'running',
  'unhealthy',
  'backoff',
]);

/** Up or on its way, ours or another program's: a start has nothing to do. */
export const UP_STATUSES: ReadonlySet<ServiceStatus> = new Set<ServiceStatus>([
  ...OURS_UP_STATUSES,
  'external',
]);

/** The service comes up by itself (or by our start) from here: worth waiting for. */
export const COMING_STATUSES: ReadonlySet<ServiceStatus> = new Set<ServiceStatus>([
  'starting',
  'backoff',
  'unhealthy',
]);

/**
 * A missing service (not installed), as opposed to a broken one, read from the supervisor's own
 * words: "… was not found", "… is not installed …", "… has no module …", "… could not find the voice …".
 * The notifications and the setup view both use it.
 */
export const MISSING = /was not found|is not installed|has no module|could not find the voice/i;

export function serviceMissing(e: ServiceEntry | undefined): boolean {
  return !!e && e.enabled && e.status === 'failed' && MISSING.test(e.lastError ?? '');
}

/** Answering and its last health check passed: requests to it succeed now. */
export function answersHealthy(
  e: { status: ServiceStatus; health: { ok: boolean } | null } | undefined,
): boolean {
  return !!e && ANSWERING_STATUSES.has(e.status) && e.health?.ok === true;
}

/** A service id (`ollama`, `vibevoice`): the settings key, the URL segment and the log/PID file name. */
export const SERVICE_ID_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
const SERVICE_ID = new RegExp(SERVICE_ID_PATTERN);

export function isServiceId(id: unknown): boolean {
  return typeof id === 'string' && SERVICE_ID.test(id);
}

export interface HostInfo {
  id: string;
  name: string;
  platform: NodeJS.Platform | string;
  role: Role;
  prio: number;
  serving: boolean;
  /** The control port the API listens on. */
  port?: number;
  /** The name actually advertised over mDNS (differs from `name` after a conflict rename). */
  advertisedName?: string;
  /** The pair this host belongs to, when paired. */
  pairId?: string | null;
  version?: string;
  /**
   * The pair's shared mDNS host name (what to type in the app): `held` when this host answers it now
   * (it serves); `conflict`: the address of another device on the LAN that answers it too.
   */
  sharedName?: { name: string; held: boolean; conflict: string | null };
  /** This host's IPv4 addresses on the advertised interfaces (the second choice to type in the app). */
  addresses?: string[];
  /**
   * Why this host cannot serve the iPhone now (an enabled service failed or is missing); absent when
   * it can. A host that cannot serve never says `serving=1`, and holds the shared name only alone.
   */
  cannotServe?: string;
}

export interface HibernationSection {
  state: HibernationState;
  idleSeconds: number;
  next: { state: HibernationState; inSeconds: number } | null;
  /** Set when the user pinned `active` ("keep awake"); null = until turned off. */
  keepAwake?: { until: string | null } | null;
  /** Recent transitions, newest last. */
  history?: { at: string; from: HibernationState; to: HibernationState; reason: string }[];
  /** When the idle clock last restarted (views tick idleSeconds locally from this). */
  lastActivityAt?: string;
  /** When this server started watching (its start): a timeline has no state before it. */
  since?: string;
  /** Hibernation is stopping, unloading, starting or preloading something right now. */
  busy?: boolean;
}

export interface ServiceEntry {
  id: string;
  name: string;
  enabled: boolean;
  status: ServiceStatus;
  port: number | null;
  pid: number | null;
  restarts: number;
  uptimeSeconds: number;
  health: { ok: boolean; latencyMs: number | null } | null;
  lastError: string | null;
  /** Extra detail for the UI, e.g. the take-over hint of an `external` service. */
  hint?: string | null;
  /** When `backoff`: seconds until the next start attempt. */
  nextRestartInSeconds?: number | null;
}

export interface GpuInfo {
  name: string;
  vendor: string;
  vramTotalMB: number;
  vramUsedMB: number | null;
  unified: boolean;
  index?: number;
  utilizationPct?: number | null;
  temperatureC?: number | null;
  powerW?: number | null;
  /** Apple silicon: all of RAM (MB); `vramTotalMB` is the share the GPU may use. */
  unifiedMemoryMB?: number | null;
}

export interface ModelUsage {
  name: string;
  service: string;
  vramMB: number;
  sizeMB?: number;
  /** size - size_vram > 0: part of the model runs on the CPU and will be slow. */
  cpuMB?: number;
  spilled?: boolean;
  expiresAt?: string | null;
}

export interface GpuSection {
  sampledAt: string | null;
  gpus: GpuInfo[];
  models: ModelUsage[];
  /** Set when live usage cannot be read: "unavailable: <why>". */
  error?: string | null;
  /** VRAM by supervised service (from per-pid attribution), when known. */
  services?: { service: string; vramMB: number; unmeasured?: number }[];
  advice?: FitAdvice | null;
  /** VRAM held by GPU processes that are not ours (games, other apps), when known. */
  otherMB?: number | null;
  /** Seconds between samples now (follows hibernation). */
  intervalSeconds?: number;
  /**
   * Cold and dormant: the GPU is not sampled on a timer (a looping nvidia-smi keeps an Optimus
   * laptop's discrete GPU awake); `POST /api/gpu/sample` reads it once. `sampledAt` says how old it is.
   */
  onDemand?: boolean;
  /** The last few history points; the full ring is `GET /api/gpu/history`. */
  recent?: GpuHistoryPoint[];
}

/** One compact sample for charts: per GPU, in the order of `gpus`. */
export interface GpuHistoryPoint {
  /** Milliseconds since the epoch. */
  t: number;
  usedMB: (number | null)[];
  utilPct: (number | null)[];
}

export interface FitAdvice {
  fits: boolean;
  level: 'ok' | 'tight' | 'too-big' | 'unknown';
  message: string;
  neededMB?: number;
  availableMB?: number;
  warnings?: string[];
  /** What was added up (MB expected, with the low-high range of the estimate). */
  items?: { name: string; mb: number; lowMB: number; highMB: number; source: string }[];
  lowMB?: number;
  highMB?: number;
}

export interface Peer {
  id: string;
  name: string;
  role: Role;
  prio: number;
  serving: boolean;
  state: HibernationState;
  lastSeenSeconds: number;
  paired?: boolean;
  ready?: boolean;
  addresses?: string[];
  port?: number;
  /** Paired peers: its heartbeats are arriving (pairing). `lastSeenSeconds` is -1 when not heard since this app started. */
  alive?: boolean;
}

/**
 * The pair as this host sees it (pairing, issue 7). The snapshot is open to the LAN, so the pairing
 * code is never here: local views read it from token-gated GET /api/pairing (or core.pairing).
 */
export interface PairingSection {
  pairId: string | null;
  /** A pairing in progress: `incoming` shows a code here, `outgoing` waits for the user to type it. */
  pending: {
    direction: 'incoming' | 'outgoing';
    peerId: string;
    peerName: string;
    address: string;
    expiresInSeconds: number;
    attemptsLeft: number;
  } | null;
  /** Seconds left of the longest lock-out of a requester address after too many wrong codes (0 = none). */
  lockedForSeconds: number;
  /** Every pending incoming request (one per requester address, at most 4): who is trying, from where. No codes. */
  requests?: {
    peerId: string;
    peerName: string;
    address: string;
    expiresInSeconds: number;
    attemptsLeft: number;
  }[];
  /** Requester addresses locked out after 5 wrong codes; other addresses can still pair. */
  lockedOut?: { address: string; forSeconds: number }[];
  /** Who serves the pair as this host sees it (this host's id included); null = nobody. */
  servingId: string | null;
  /** Why this host serves or not, in words. */
  reason: string;
  /** The user said "stop serving" here. */
  standby: boolean;
  /** This host waits to take the pair back (failback). */
  claim: boolean;
  /** Heartbeat datagrams: sent, accepted, and the ones dropped by reason. */
  heartbeats: {
    sent: number;
    received: number;
    accepted: number;
    malformed: number;
    unauthenticated: number;
    replayed: number;
    unconfirmed: number;
  };
  /** Peer-to-peer pairing requests refused (bad MAC, unknown peer, stale nonce). */
  rejectedRequests: number;
  lastError: string | null;
}

/** One public service port as the front door holds it (main/core/frontdoor/README.md). */
export interface FrontDoorPort {
  /** The service id behind it. */
  id: string;
  name: string;
  /** The port the phone uses (`services.<id>.port`). */
  port: number;
  /**
   * Where the front door listens: `all` interfaces, `loopback` only (serveOnLan off), `lan` (the
   * port is taken on loopback by another program: the LAN addresses only), or `none` (it does not
   * stand in front of this service: front door off, a command override without `{port}`, or the
   * port taken on every address).
   */
  listening: 'all' | 'loopback' | 'lan' | 'none';
  /** The addresses bound (empty when `none`). */
  addresses: string[];
  /** Who answers behind it: our own process, another program's, or nobody right now. */
  behind: 'ours' | 'external' | 'nobody';
  /** Reachable from the LAN: only then is the port advertised over mDNS. */
  lan: boolean;
  /** Where requests go (`127.0.0.1:40123`), null when not in front. */
  upstream: string | null;
  /** Requests that reached this port in the last 60 s. */
  requestsLastMinute: number;
  /** Requests held now while the service wakes or starts. */
  held: number;
  /** Requests held since the app started. */
  heldTotal: number;
  /** What the front door did and why, in words (e.g. why it listens on the LAN addresses only). */
  note: string | null;
}

export interface FrontDoorSection {
  enabled: boolean;
  /** `lan`: loopback, private and link-local sources only; `any`: everyone. */
  allowFrom: 'lan' | 'any';
  /** The LLM port asks for `Authorization: Bearer <key>`. */
  llmKeyRequired: boolean;
  ports: FrontDoorPort[];
}

export interface Notice {
  id: string;
  level: 'info' | 'warning' | 'error';
  code: string;
  message: string;
  at: string;
}

export interface Snapshot {
  v: 1;
  host: HostInfo;
  hibernation: HibernationSection;
  services: ServiceEntry[];
  gpu: GpuSection;
  peers: Peer[];
  /** Present once the pairing capability runs. */
  pairing?: PairingSection;
  /** Present once the front door runs: the public service ports. */
  frontDoor?: FrontDoorSection;
  /** User-facing problems and events (corrupt settings, a failed service, …); newest last. */
  notices: Notice[];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'too_many_requests'
  | 'timeout'
  | 'internal'
  /** A service behind the front door cannot answer now (disabled, failed, or still starting past the hold bound). */
  | 'service_unavailable'
  /** The front door could not reach the program behind a port. */
  | 'bad_gateway';

export interface LogLine {
  t: string;
  stream: 'stdout' | 'stderr' | 'supervisor';
  text: string;
}

// Another UnaMentis host seen on the LAN (its mDNS record, CONTRACT §1), as pairing and discovery
// both read it (discovery's DiscoveredHost has more), and the snapshot's Peer view of one.

/** The mDNS TXT key that carries each supervised service's public port (CONTRACT §1). */
export const SERVICE_PORT_TXT_KEYS = {
  ollama: 'llm',
  vibevoice: 'tts',
  piper: 'tts2',
  whisper: 'stt',
} as const;
export type ServicePortTxtKey = (typeof SERVICE_PORT_TXT_KEYS)[keyof typeof SERVICE_PORT_TXT_KEYS];

export interface SeenHost {
  id: string;
  name: string;
  port: number;
  /** A/AAAA addresses, IPv4 first. */
  addresses: string[];
  txt: {
    role: Role;
    prio: number;
    serving: boolean;
    state: HibernationState;
    /** The public service ports it advertises, by TXT key (SERVICE_PORT_TXT_KEYS). */
    ports?: Partial<Record<ServicePortTxtKey, number>>;
  };
  /** The address its last packet came from. */
  via: { address: string };
  /** When it was last heard, ms since the epoch. */
  lastSeenAt: number;
  health: { ok: boolean | null; ready: boolean | null };
}

export function toPeer(h: SeenHost, now: number): Peer {
  return {
    id: h.id,
    name: h.name,
    role: h.txt.role,
    prio: h.txt.prio,
    serving: h.txt.serving,
    state: h.txt.state,
    lastSeenSeconds: Math.max(0, Math.round((now - h.lastSeenAt) / 1000)),
    ready: h.health.ok === true && h.health.ready === true,
    addresses: [...h.addresses],
    port: h.port,
  };
}

// GET /api/latency: the latency check's report.

export interface LatencyResult {
  /** The service measured: `ollama`, `vibevoice`, `piper`. */
  service: string;
  /** `ttft`: LLM time to first token; `ttfb`: TTS time to first audio byte. */
  metric: 'ttft' | 'ttfb';
  label: string;
  /** The reference target (server-infrastructure-guide §7.3): 200 ms for both. */
  targetMs: number;
  /** The first request (may include loading the model); not judged. */
  coldMs: number | null;
  /** Warm samples, in order. */
  samplesMs: number[];
  medianMs: number | null;
  /** null: could not be measured (see `error`). */
  pass: boolean | null;
  /** What was measured against (model, voice). */
  detail: string | null;
  error: string | null;
}

export interface LatencyReport {
  at: string;
  results: LatencyResult[];
}

// GET /api/setup: the setup view's whole state (main/core/setup/).

export const STEP_IDS = ['ollama', 'piper', 'vibevoice'] as const;
export type StepId = (typeof STEP_IDS)[number];

export type StepState = 'todo' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface StepProgress {
  label: string;
  received: number;
  total: number | null;
}

export interface StepRecord {
  id: StepId;
  state: StepState;
  /** The phase running now, or the last one that ran. */
  phase: string | null;
  /** Keys of the phases finished: a resumed run skips them. */
  done: string[];
  progress: StepProgress | null;
  error: string | null;
  /** The exact command(s) that do the failed phase by hand. */
  manual: string | null;
  /** The last lines the step's programs printed. */
  output: string[];
  /** What the phases found or made (program paths, folders), for the later phases and a resume. */
  facts: Record<string, string>;
  updatedAt: string | null;
}

export interface PhoneSeen {
  at: string;
  from: string;
  service: string;
}

export interface Tier {
  /** The Ollama model to pull and preload. */
  model: string;
  /** VibeVoice runs next to it (else Piper is the voice). */
  vibevoice: boolean;
  /** The GPU the choice was made for, in words ("NVIDIA GeForce RTX 3060, 12 GB"). */
  gpu: string;
  /** Why, one sentence per step of the reasoning, for the setup view. */
  why: string[];
}

export interface StepView extends StepRecord {
  name: string;
  phases: { key: string; label: string; done: boolean }[];
  /** The service behind the step: its status and health now. */
  service: { status: string; healthy: boolean; lastError: string | null } | null;
  /** Done and its service is running and healthy: the card is green. */
  ready: boolean;
  /** The service's program or files are missing (the supervisor gave up: "… was not found"). */
  missing: boolean;
  /** The tier leaves this step out (VibeVoice on a GPU too small for it next to the model). */
  optional: string | null;
}

export interface SetupView {
  /** Open the setup view: the app's first start, or a service is missing. */
  needed: boolean;
  reason: string | null;
  /** null until the GPU has been looked at once. */
  tier: Tier | null;
  steps: StepView[];
  phone: {
    /** This host's LAN addresses (IPv4), what to type in the app. */
    addresses: string[];
    hostname: string;
    /** A shared mDNS name answered by the serving host (issue: pair), when there is one. */
    sharedName: string | null;
    /** The model to choose in the app. */
    model: string | null;
    seen: PhoneSeen | null;
  };
}
