// Types for scripts/build-if-stale.mjs (plain JS: it runs before anything is compiled).
export const repoRoot: string;
/** The first source newer than the build, or null when dist/ is up to date. */
export function staleReason(root?: string): string | null;
/** Builds when stale; returns the exit status (0 when nothing had to be done). */
export function buildIfStale(root?: string, log?: (message: string) => void): number;
