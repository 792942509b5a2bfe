// Settings: every setting, grouped, saved as one patch. Validation is the server's (the one
// schema): a 400 names the field, and the form shows the message beside that input and focuses it.

import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Snapshot } from '../../../main/core/contract.js';
import { bridge } from '../bridge.js';
import { ApiError, type ApiClient, type SettingsView } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatDuration } from '../format.js';
import {
  diffPatch,
  fieldMatches,
  formatKeyValues,
  formatList,
  getPath,
  parseKeyValues,
  parseList,
  parseNumber,
  setPath,
  typedValues,
} from '../settings-model.js';

type Kind =
  | { type: 'text'; placeholder?: string }
  | { type: 'number'; nullable?: boolean; unit?: string; placeholder?: string; seconds?: boolean }
  | { type: 'bool' }
  | { type: 'select'; options: { value: string; label: string }[]; optional?: boolean }
  | { type: 'list'; placeholder?: string }
  | { type: 'kv'; typed?: boolean; placeholder?: string }
  | { type: 'path'; directory?: boolean; placeholder?: string };

interface FieldSpec {
  path: string[];
  label: string;
  kind: Kind;
  help?: ReactNode;
}

const seconds = (placeholder?: string): Kind => ({ type: 'number', unit: 's', seconds: true, ...(placeholder ? { placeholder } : {}) });
const LEVELS = [
  { value: 'warm', label: 'Warm' },
  { value: 'cool', label: 'Cool' },
  { value: 'cold', label: 'Cold' },
  { value: 'dormant', label: 'Dormant' },
  { value: 'never', label: 'Never' },
];

const GROUPS: { id: string; title: string; fields: FieldSpec[] }[] = [
  {
    id: 'general',
    title: 'This computer',
    fields: [
      { path: ['displayName'], label: 'Name', kind: { type: 'text', placeholder: 'the computer’s name' }, help: 'Shown to the iPhone and on the network. Blank uses the computer’s name.' },
      {
        path: ['role'],
        label: 'Role',
        kind: { type: 'select', options: [{ value: 'primary', label: 'Primary (serves whenever awake)' }, { value: 'fallback', label: 'Fallback (takes over when the primary is away)' }] },
      },
      { path: ['prio'], label: 'Priority', kind: { type: 'number', nullable: true, placeholder: 'role default' }, help: '0–255; the highest ready host serves. Blank: 200 for a primary, 100 for a fallback.' },
      { path: ['startAtLogin'], label: 'Start at login', kind: { type: 'bool' } },
    ],
  },
  {
    id: 'network',
    title: 'Network',
    fields: [
      { path: ['serveOnLan'], label: 'Expose the AI services on the local network', kind: { type: 'bool' }, help: 'The iPhone needs this. Off: the service ports answer this computer only.' },
      { path: ['frontDoor', 'enabled'], label: 'Front door on the service ports', kind: { type: 'bool' }, help: 'Requests to 11434, 8880, 11402 and 11401 pass through UnaMentis: they wake a sleeping service and count as use.' },
      {
        path: ['frontDoor', 'allowFrom'],
        label: 'Who may use the service ports',
        kind: { type: 'select', options: [{ value: 'lan', label: 'The local network only' }, { value: 'any', label: 'Anyone who can reach this computer' }] },
      },
      { path: ['frontDoor', 'llmKey'], label: 'API key for the LLM port', kind: { type: 'text' }, help: 'Blank: none. When set, the app sends it as its API key (Authorization: Bearer).' },
      { path: ['frontDoor', 'maxHeldRequests'], label: 'Requests kept waiting per service while it wakes', kind: { type: 'number' } },
      { path: ['frontDoor', 'maxHoldSeconds'], label: 'Longest wait for a waking service', kind: seconds(), help: 'Then the request is answered 503 with Retry-After.' },
      { path: ['api', 'port'], label: 'Control port', kind: { type: 'number' }, help: 'Restart the app after changing it.' },
      { path: ['api', 'bind'], label: 'Control API address', kind: { type: 'text' }, help: '0.0.0.0 = every interface; 127.0.0.1 = this computer only.' },
      { path: ['api', 'allowedHosts'], label: 'Extra host names allowed', kind: { type: 'list', placeholder: 'one per line' } },
      { path: ['discovery', 'advertise'], label: 'Advertise on the network (mDNS)', kind: { type: 'bool' } },
      { path: ['discovery', 'interfaces'], label: 'Advertise only on these interfaces', kind: { type: 'list', placeholder: 'blank = every interface' } },
    ],
  },
  {
    id: 'models',
    title: 'Models',
    fields: [
      { path: ['models', 'preload'], label: 'Models to preload', kind: { type: 'list', placeholder: 'mistral:7b' }, help: 'Loaded when Ollama is ready and after every wake, until the phone has asked for a model. One per line.' },
      { path: ['models', 'learnedPreload'], label: 'Preload the models the phone used last', kind: { type: 'number' }, help: 'How many; 0 = always the list above.' },
    ],
  },
  {
    id: 'hibernation',
    title: 'Hibernation',
    fields: [
      { path: ['hibernation', 'enabled'], label: 'Hibernate when idle', kind: { type: 'bool' } },
      { path: ['hibernation', 'warmAfterSeconds'], label: 'Warm after', kind: seconds() },
      { path: ['hibernation', 'coolAfterSeconds'], label: 'Cool after', kind: seconds(), help: 'Stops VibeVoice.' },
      { path: ['hibernation', 'coldAfterSeconds'], label: 'Cold after', kind: seconds(), help: 'Unloads every model.' },
      { path: ['hibernation', 'dormantAfterSeconds'], label: 'Dormant after', kind: seconds(), help: 'Stops every service.' },
      { path: ['hibernation', 'preventSleep'], label: 'Keep the computer awake while active or warm', kind: { type: 'bool' } },
    ],
  },
  {
    id: 'gpu',
    title: 'GPU sampling',
    fields: [
      { path: ['gpu', 'activeIntervalSeconds'], label: 'Every, while active', kind: seconds() },
      { path: ['gpu', 'warmIntervalSeconds'], label: 'Every, while warm', kind: seconds() },
      { path: ['gpu', 'coldIntervalSeconds'], label: 'Every, while cool or colder', kind: seconds() },
    ],
  },
  {
    id: 'notifications',
    title: 'Notifications',
    fields: [
      { path: ['notifications', 'serviceFailed'], label: 'A service failed', kind: { type: 'bool' } },
      { path: ['notifications', 'failover'], label: 'Failover or handoff between paired computers', kind: { type: 'bool' } },
      { path: ['notifications', 'pairing'], label: 'A pairing request (with its code)', kind: { type: 'bool' } },
      { path: ['notifications', 'modelTooBig'], label: 'A model too big for the GPU', kind: { type: 'bool' } },
    ],
  },
  {
    id: 'supervisor',
    title: 'Supervision',
    fields: [
      { path: ['supervisor', 'stopTimeoutSeconds'], label: 'Stop grace before killing', kind: seconds() },
      { path: ['supervisor', 'crashLoopCount'], label: 'Crashes that mean “failed”', kind: { type: 'number' } },
      { path: ['supervisor', 'crashLoopWindowSeconds'], label: '…within', kind: seconds() },
      { path: ['supervisor', 'hungAfterFailures'], label: 'Failed health checks before a restart', kind: { type: 'number' } },
      { path: ['supervisor', 'healthIntervalSeconds'], label: 'Health check every', kind: seconds() },
    ],
  },
];

function serviceFields(id: string): FieldSpec[] {
  const p = (...k: string[]) => ['services', id, ...k];
  return [
    { path: p('enabled'), label: 'Enabled', kind: { type: 'bool' } },
    { path: p('command'), label: 'Program', kind: { type: 'path', placeholder: 'preset default' }, help: 'The executable or interpreter (e.g. a venv’s python).' },
    { path: p('args'), label: 'Arguments', kind: { type: 'list', placeholder: 'preset default; one per line' } },
    { path: p('cwd'), label: 'Working folder', kind: { type: 'path', directory: true, placeholder: 'preset default' } },
    { path: p('port'), label: 'Port', kind: { type: 'number', placeholder: 'preset default' } },
    { path: p('env'), label: 'Environment', kind: { type: 'kv', placeholder: 'KEY=value, one per line' } },
    { path: p('options'), label: 'Options', kind: { type: 'kv', typed: true, placeholder: 'modelPath=/models/…' }, help: 'Preset options such as the model path, voice or device.' },
    { path: p('healthPath'), label: 'Health path', kind: { type: 'text', placeholder: 'preset default, e.g. /health' } },
    { path: p('startTimeoutSeconds'), label: 'Start timeout', kind: seconds('preset default') },
    { path: p('stopTimeoutSeconds'), label: 'Stop timeout', kind: seconds('supervision default') },
  ];
}

function policyFields(id: string): FieldSpec[] {
  return [
    { path: ['hibernation', 'policy', id, 'stopAt'], label: 'Stop from', kind: { type: 'select', options: LEVELS, optional: true } },
    { path: ['hibernation', 'policy', id, 'unloadAt'], label: 'Unload models from', kind: { type: 'select', options: LEVELS, optional: true } },
  ];
}

export function SettingsPanel({ client, snapshot, canAct }: { client: ApiClient; snapshot: Snapshot; canAct: boolean }) {
  const [original, setOriginal] = useState<SettingsView | null>(null);
  const [draft, setDraft] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [newService, setNewService] = useState('');
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (!canAct) return;
    let cancelled = false;
    client
      .settings()
      .then((s) => {
        if (cancelled) return;
        setOriginal(s);
        setDraft(s);
      })
      .catch((err: Error) => !cancelled && setLoadError(err.message));
    return () => {
      cancelled = true;
    };
  }, [client, canAct]);

  const patch = useMemo(() => (original && draft ? diffPatch(original, draft) : undefined), [original, draft]);
  const serviceIds = useMemo(() => {
    const ids = new Set(snapshot.services.map((s) => s.id));
    for (const id of Object.keys(draft?.services ?? {})) ids.add(id);
    return [...ids];
  }, [snapshot.services, draft?.services]);

  useEffect(() => {
    // Point at the field the server refused.
    if (!error?.field || !formRef.current) return;
    const el = formRef.current.querySelector<HTMLElement>('[aria-invalid="true"]');
    el?.focus();
  }, [error]);

  if (!canAct) return <p className="empty">Settings need the access token (see above).</p>;
  if (loadError) return <ErrorText error={`Could not load the settings: ${loadError}`} />;
  if (!draft || !original) return <p className="muted">Loading…</p>;

  const set = (path: string[], value: unknown) => {
    setDraft((d) => setPath(d, path, value));
    setSaved(null);
  };

  const save = async () => {
    if (patch === undefined) return;
    setSaving(true);
    setError(null);
    try {
      const next = await client.saveSettings(patch);
      // In the app, start at login is also the OS's login item: ask the shell.
      if (bridge && next.startAtLogin !== original.startAtLogin) await bridge.setStartAtLogin(next.startAtLogin).catch(() => {});
      setOriginal(next);
      setDraft(next);
      setSaved('Saved.');
    } catch (err) {
      // A change of which program runs needs the user at this computer: in the app, a native dialog asks.
      if (bridge && err instanceof ApiError && err.status === 403 && err.field?.startsWith('services.')) {
        const r = await bridge.confirmSettings(patch).catch((e: Error) => ({ ok: false, message: e.message }));
        if (r.ok) {
          const next = await client.settings();
          setOriginal(next);
          setDraft(next);
          setSaved('Saved.');
          return;
        }
        setError({ message: r.message, field: err.field });
        return;
      }
      const e = err as Error;
      setError({ message: e.message, field: err instanceof ApiError ? (err.field ?? null) : null });
    } finally {
      setSaving(false);
    }
  };

  const errField = error?.field ?? null;
  const field = (f: FieldSpec, fallback?: unknown) => (
    <Field key={f.path.join('.')} spec={f} value={getPath(draft, f.path) ?? fallback} onChange={(v) => set(f.path, v)} error={fieldMatches(errField, f.path) ? atField(error!.message, errField!) : null} />
  );

  return (
    <form
      ref={formRef}
      className="settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="settings-bar">
        <button type="submit" className="primary" disabled={saving || patch === undefined}>
          {saving ? 'Saving…' : 'Save changes'}
        </button>
        <button
          type="button"
          disabled={saving || patch === undefined}
          onClick={() => {
            setDraft(original);
            setError(null);
          }}
        >
          Discard
        </button>
        <span className="muted small" role="status">
          {saved ?? (patch === undefined ? 'No changes.' : 'Unsaved changes.')}
        </span>
      </div>
      {error && (
        <div className="callout error" role="alert" data-testid="settings-error">
          Not saved: {error.message}
          {error.field && !fieldOnPage(errField, serviceIds) ? ` (${error.field})` : ''}
        </div>
      )}
      {GROUPS.map((g) => (
        <fieldset key={g.id} className="card">
          <legend>{g.title}</legend>
          {g.fields.map((f) => field(f))}
          {g.id === 'hibernation' && (
            <details>
              <summary>Per service: when hibernation stops or unloads it</summary>
              {serviceIds.map((id) => (
                <fieldset key={id} className="sub">
                  <legend>{snapshot.services.find((s) => s.id === id)?.name ?? id}</legend>
                  {policyFields(id).map((f) => field(f))}
                </fieldset>
              ))}
            </details>
          )}
        </fieldset>
      ))}
      <fieldset className="card">
        <legend>Services</legend>
        <p className="muted small">Blank fields use the preset. Changes apply the next time the service starts.</p>
        {serviceIds.map((id) => {
          const entry = snapshot.services.find((s) => s.id === id);
          return (
            <details key={id} className="service-settings">
              <summary>
                {entry?.name ?? draft.services[id]?.name ?? id} <span className="muted small">({id})</span>
              </summary>
              {serviceFields(id).map((f) => field(f, f.path.at(-1) === 'enabled' ? entry?.enabled : undefined))}
            </details>
          );
        })}
        <div className="control-row">
          <label htmlFor="new-service">Add a service with id</label>
          <input id="new-service" value={newService} onChange={(e) => setNewService(e.target.value)} placeholder="e.g. my-stt" />
          <button
            type="button"
            disabled={!newService.trim() || serviceIds.includes(newService.trim())}
            onClick={() => {
              set(['services', newService.trim()], { name: newService.trim(), enabled: true });
              setNewService('');
            }}
          >
            Add
          </button>
        </div>
      </fieldset>
      <fieldset className="card">
        <legend>Identity</legend>
        <p className="small">
          Host id <code>{draft.hostId}</code>
          {draft.pairing.pairId ? (
            <>
              {' '}
              · pair <code>{draft.pairing.pairId}</code> with {draft.pairing.peers.length} other computer{draft.pairing.peers.length === 1 ? '' : 's'}
            </>
          ) : (
            ' · not paired'
          )}
        </p>
      </fieldset>
    </form>
  );
}

/** Beside its input the field's name is implied: "api.port must be at most 65535" → "Must be at most 65535". */
function atField(message: string, field: string): string {
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

function fieldOnPage(field: string | null, serviceIds: string[]): boolean {
  if (!field) return false;
  const all = [...GROUPS.flatMap((g) => g.fields), ...serviceIds.flatMap((id) => [...serviceFields(id), ...policyFields(id)])];
  return all.some((f) => fieldMatches(field, f.path));
}

function Field({ spec, value, onChange, error }: { spec: FieldSpec; value: unknown; onChange: (v: unknown) => void; error: string | null }) {
  const id = useId();
  const errId = `${id}-err`;
  const helpId = `${id}-help`;
  const describedBy = [error ? errId : null, spec.help ? helpId : null].filter(Boolean).join(' ') || undefined;
  const k = spec.kind;
  const common = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy, 'data-field': spec.path.join('.') } as const;
  let control: ReactNode;
  switch (k.type) {
    case 'bool':
      control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
      break;
    case 'text':
      control = <input type="text" {...common} value={typeof value === 'string' ? value : ''} placeholder={k.placeholder} onChange={(e) => onChange(e.target.value === '' && value === undefined ? undefined : e.target.value)} spellCheck={false} />;
      break;
    case 'number':
      control = (
        <span className="with-unit">
          <input
            type="text"
            inputMode="decimal"
            {...common}
            value={value === null || value === undefined ? '' : String(value)}
            placeholder={k.placeholder}
            onChange={(e) => {
              const v = parseNumber(e.target.value, k.nullable === true);
              onChange(v === '' && value === undefined ? undefined : v);
            }}
          />
          {k.unit && <span className="unit">{k.unit}</span>}
          {k.seconds && typeof value === 'number' && value >= 60 && <span className="muted small">= {formatDuration(value)}</span>}
        </span>
      );
      break;
    case 'select':
      control = (
        <select {...common} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
          {k.optional && <option value="">Default</option>}
          {k.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case 'list':
      control = <ListInput common={common} value={value} placeholder={k.placeholder} onChange={onChange} />;
      break;
    case 'kv':
      control = <KvInput common={common} value={value} placeholder={k.placeholder} typed={k.typed === true} onChange={onChange} />;
      break;
    case 'path':
      control = (
        <span className="with-button">
          <input type="text" {...common} value={typeof value === 'string' ? value : ''} placeholder={k.placeholder} onChange={(e) => onChange(e.target.value === '' && value === undefined ? undefined : e.target.value)} spellCheck={false} />
          {bridge && (
            <button
              type="button"
              aria-label={`Choose ${spec.label.toLowerCase()}`}
              onClick={async () => {
                const picked = await bridge!.pickFile({ title: spec.label, directory: k.directory === true });
                if (picked) onChange(picked);
              }}
            >
              Choose…
            </button>
          )}
        </span>
      );
      break;
  }
  return (
    <div className={`field ${k.type === 'bool' ? 'field-bool' : ''} ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>{spec.label}</label>
      <div className="control">
        {control}
        {spec.help && (
          <p id={helpId} className="muted small help">
            {spec.help}
          </p>
        )}
        {error && (
          <p id={errId} className="error-text field-error">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}

/** A textarea that keeps the user's text while typing and reports the parsed list. */
function ListInput({ common, value, placeholder, onChange }: { common: Record<string, unknown>; value: unknown; placeholder?: string; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(() => formatList(value));
  const [prev, setPrev] = useState(value);
  if (prev !== value && JSON.stringify(parseList(text)) !== JSON.stringify(value ?? [])) {
    setPrev(value);
    setText(formatList(value));
  }
  return (
    <textarea
      {...common}
      rows={Math.min(6, Math.max(2, text.split('\n').length))}
      value={text}
      placeholder={placeholder}
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        const list = parseList(e.target.value);
        setPrev(list);
        onChange(list.length === 0 && value === undefined ? undefined : list);
      }}
    />
  );
}

function KvInput({ common, value, placeholder, typed, onChange }: { common: Record<string, unknown>; value: unknown; placeholder?: string; typed: boolean; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(() => formatKeyValues(value));
  const [prev, setPrev] = useState(value);
  if (prev !== value) {
    setPrev(value);
    const parsed = parseKeyValues(text);
    if (JSON.stringify(typed ? typedValues(parsed) : parsed) !== JSON.stringify(value ?? {})) setText(formatKeyValues(value));
  }
  return (
    <textarea
      {...common}
      rows={Math.min(6, Math.max(2, text.split('\n').length))}
      value={text}
      placeholder={placeholder}
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        const parsed = parseKeyValues(e.target.value);
        const next = typed ? typedValues(parsed) : parsed;
        setPrev(next);
        onChange(Object.keys(next).length === 0 && value === undefined ? undefined : next);
      }}
    />
  );
}
