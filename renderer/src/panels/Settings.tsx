// Settings: every setting, grouped, saved as one patch. Validation is the server's (the one
// schema): a 400 names the field, and the form shows the message beside that input and focuses it.
// The layout is settings-form.ts; each input's kind and help text come from the schema.

import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Snapshot } from '../../../main/core/contract.js';
import { bridge } from '../bridge.js';
import { ApiError, type ApiClient, type SettingsView } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatDuration } from '../format.js';
import {
  diffPatch,
  fieldKind,
  fieldMatches,
  fieldSchema,
  formatKeyValues,
  formatList,
  getPath,
  parseKeyValues,
  parseList,
  parseNumber,
  setPath,
  typedValues,
} from '../settings-model.js';
import { GROUPS, policyFields, serviceFields, type FieldSpec } from '../settings-form.js';

export function SettingsPanel({
  client,
  snapshot,
  canAct,
}: {
  client: ApiClient;
  snapshot: Snapshot;
  canAct: boolean;
}) {
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

  const patch = useMemo(
    () => (original && draft ? diffPatch(original, draft) : undefined),
    [original, draft],
  );
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

  const set = (path: readonly string[], value: unknown) => {
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
      if (bridge && next.startAtLogin !== original.startAtLogin)
        await bridge.setStartAtLogin(next.startAtLogin).catch(() => {});
      setOriginal(next);
      setDraft(next);
      setSaved('Saved.');
    } catch (err) {
      // A change of which program runs needs the user at this computer: in the app, a native dialog asks.
      if (
        bridge &&
        err instanceof ApiError &&
        err.status === 403 &&
        err.field?.startsWith('services.')
      ) {
        const r = await bridge
          .confirmSettings(patch)
          .catch((e: Error) => ({ ok: false, message: e.message }));
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
    <Field
      key={f.path.join('.')}
      spec={f}
      value={getPath(draft, f.path) ?? fallback}
      onChange={(v) => set(f.path, v)}
      error={fieldMatches(errField, f.path) ? atField(error!.message, errField!) : null}
    />
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
        <p className="muted small">
          Blank fields use the preset. Changes apply the next time the service starts.
        </p>
        {serviceIds.map((id) => {
          const entry = snapshot.services.find((s) => s.id === id);
          return (
            <details key={id} className="service-settings">
              <summary>
                {entry?.name ?? draft.services[id]?.name ?? id}{' '}
                <span className="muted small">({id})</span>
              </summary>
              {serviceFields(id).map((f) =>
                field(f, f.path.at(-1) === 'enabled' ? entry?.enabled : undefined),
              )}
            </details>
          );
        })}
        <div className="control-row">
          <label htmlFor="new-service">Add a service with id</label>
          <input
            id="new-service"
            value={newService}
            onChange={(e) => setNewService(e.target.value)}
            placeholder="e.g. my-stt"
          />
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
              · pair <code>{draft.pairing.pairId}</code> with {draft.pairing.peers.length} other
              computer{draft.pairing.peers.length === 1 ? '' : 's'}
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
  const all = [
    ...GROUPS.flatMap((g) => g.fields),
    ...serviceIds.flatMap((id) => [...serviceFields(id), ...policyFields(id)]),
  ];
  return all.some((f) => fieldMatches(field, f.path));
}

function Field({
  spec,
  value,
  onChange,
  error,
}: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  error: string | null;
}) {
  const id = useId();
  const errId = `${id}-err`;
  const helpId = `${id}-help`;
  const found = fieldSchema(__SETTINGS_SCHEMA__, spec.path);
  const help = found?.schema.description;
  const k = found
    ? fieldKind(found.schema, found.optional, spec.path)
    : ({ type: 'text' } as const);
  const describedBy =
    [error ? errId : null, help ? helpId : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'data-field': spec.path.join('.'),
  } as const;
  const text = (e: { target: { value: string } }) =>
    onChange(e.target.value === '' && value === undefined ? undefined : e.target.value);
  let control: ReactNode;
  switch (k.type) {
    case 'bool':
      control = (
        <input
          type="checkbox"
          {...common}
          checked={value === true}
          onChange={(e) => onChange(e.target.checked)}
        />
      );
      break;
    case 'text':
      control = (
        <input
          type="text"
          {...common}
          value={typeof value === 'string' ? value : ''}
          placeholder={spec.placeholder}
          onChange={text}
          spellCheck={false}
        />
      );
      if (spec.pick) {
        control = (
          <span className="with-button">
            {control}
            {bridge && (
              <button
                type="button"
                aria-label={`Choose ${spec.label.toLowerCase()}`}
                onClick={async () => {
                  const picked = await bridge!.pickFile({
                    title: spec.label,
                    directory: spec.pick === 'directory',
                  });
                  if (picked) onChange(picked);
                }}
              >
                Choose…
              </button>
            )}
          </span>
        );
      }
      break;
    case 'number':
      control = (
        <span className="with-unit">
          <input
            type="text"
            inputMode="decimal"
            {...common}
            value={value === null || value === undefined ? '' : String(value)}
            placeholder={spec.placeholder}
            onChange={(e) => {
              const v = parseNumber(e.target.value, k.nullable);
              onChange(v === '' && value === undefined ? undefined : v);
            }}
          />
          {k.seconds && <span className="unit">s</span>}
          {k.seconds && typeof value === 'number' && value >= 60 && (
            <span className="muted small">= {formatDuration(value)}</span>
          )}
        </span>
      );
      break;
    case 'select':
      control = (
        <select
          {...common}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
        >
          {k.optional && <option value="">Default</option>}
          {k.values.map((v) => (
            <option key={v} value={v}>
              {spec.optionLabels?.[v] ?? v}
            </option>
          ))}
        </select>
      );
      break;
    case 'list':
      control = (
        <ListInput
          common={common}
          value={value}
          placeholder={spec.placeholder}
          onChange={onChange}
        />
      );
      break;
    case 'kv':
      control = (
        <KvInput
          common={common}
          value={value}
          placeholder={spec.placeholder}
          typed={k.typed}
          onChange={onChange}
        />
      );
      break;
  }
  return (
    <div className={`field ${k.type === 'bool' ? 'field-bool' : ''} ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>{spec.label}</label>
      <div className="control">
        {control}
        {help && (
          <p id={helpId} className="muted small help">
            {help}
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
function ListInput({
  common,
  value,
  placeholder,
  onChange,
}: {
  common: Record<string, unknown>;
  value: unknown;
  placeholder?: string;
  onChange: (v: unknown) => void;
}) {
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

function KvInput({
  common,
  value,
  placeholder,
  typed,
  onChange,
}: {
  common: Record<string, unknown>;
  value: unknown;
  placeholder?: string;
  typed: boolean;
  onChange: (v: unknown) => void;
}) {
  const [text, setText] = useState(() => formatKeyValues(value));
  const [prev, setPrev] = useState(value);
  if (prev !== value) {
    setPrev(value);
    const parsed = parseKeyValues(text);
    if (JSON.stringify(typed ? typedValues(parsed) : parsed) !== JSON.stringify(value ?? {}))
      setText(formatKeyValues(value));
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
