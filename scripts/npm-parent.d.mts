// Types for scripts/npm-parent.mjs.
/** True when npm's shell has already gone (e.g. stopped during the build): then start nothing. */
export function npmWentAway(): boolean;
/** Under an npm script, stop (SIGTERM to ourselves) when npm's shell goes away. */
export function stopWhenNpmGoesAway(): void;
