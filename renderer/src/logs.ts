// The log viewer's pure part: merging the initial lines with live ones, and search.

import type { LogLine } from '../../main/core/contract.js';

/**
 * Appends live lines to the fetched ones without duplicating those that arrived in both
 * (the SSE stream may deliver a line the logs request already returned). Bounded to `max`.
 */
export function mergeLogLines(initial: LogLine[], live: LogLine[], max: number): LogLine[] {
  const key = (l: LogLine) => `${l.t}\u0000${l.stream}\u0000${l.text}`;
  const seen = new Set(initial.map(key));
  const out = [...initial];
  for (const l of live) {
    if (seen.has(key(l))) continue;
    seen.add(key(l));
    out.push(l);
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/** Case-insensitive substring filter; `stream` narrows to stdout / stderr / supervisor lines. */
export function filterLogLines(
  lines: LogLine[],
  query: string,
  stream: LogLine['stream'] | 'all' = 'all',
): LogLine[] {
  const q = query.trim().toLowerCase();
  return lines.filter(
    (l) => (stream === 'all' || l.stream === stream) && (!q || l.text.toLowerCase().includes(q)),
  );
}

/** Splits a line's text around matches so the viewer can highlight them. */
export function highlightParts(text: string, query: string): { text: string; match: boolean }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  let i = 0;
  for (;;) {
    const j = lower.indexOf(q, i);
    if (j < 0) break;
    if (j > i) parts.push({ text: text.slice(i, j), match: false });
    parts.push({ text: text.slice(j, j + q.length), match: true });
    i = j + q.length;
  }
  if (i < text.length) parts.push({ text: text.slice(i), match: false });
  return parts;
}
