// Navigation by URL hash, so the tray (and a bookmark) can open a section directly:
// `#services`, `#services/ollama/logs`, `#gpu`, `#pairing`, … Pure: parse and format only.

export const SECTIONS = [
  'setup',
  'services',
  'gpu',
  'hibernation',
  'pairing',
  'iphone',
  'models',
  'latency',
  'settings',
] as const;
export type Section = (typeof SECTIONS)[number];

export const SECTION_LABEL: Record<Section, string> = {
  setup: 'Setup',
  services: 'Services',
  gpu: 'GPU',
  hibernation: 'Hibernation',
  pairing: 'Pairing',
  iphone: 'iPhone setup',
  models: 'Models',
  latency: 'Latency check',
  settings: 'Settings',
};

export interface Route {
  section: Section;
  /** `#services/<id>/logs`: the service whose log viewer is open. */
  service?: string;
  logs?: boolean;
}

/** Reads a location hash. Unknown sections fall back to services; `token=` fragments are not routes. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  if (!raw || raw.includes('=')) return { section: 'services' };
  const parts = raw.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const section = (SECTIONS as readonly string[]).includes(parts[0]!)
    ? (parts[0] as Section)
    : 'services';
  if (section === 'services' && parts[1]) {
    return { section, service: parts[1], ...(parts[2] === 'logs' ? { logs: true } : {}) };
  }
  return { section };
}

export function formatHash(r: Route): string {
  if (r.section === 'services' && r.service) {
    return `#services/${encodeURIComponent(r.service)}${r.logs ? '/logs' : ''}`;
  }
  return `#${r.section}`;
}
