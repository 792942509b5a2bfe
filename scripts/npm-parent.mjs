// npm runs a script as `sh -c '…'` and forwards SIGTERM/SIGINT to that shell only; the shell dies and
// does not pass them on (dash does not exec the command). So a server started by an npm script stops
// as if the signal had reached it when its parent goes away: nothing is left serving with parent 1.
// Only under npm: a server that an admin deliberately detached (`unamentis-server &`, disown) stays.

const parent = process.ppid;
const underNpm = Boolean(process.env.npm_lifecycle_event);

/** True when npm's shell has already gone (e.g. stopped during the build): then start nothing. */
export function npmWentAway() {
  return underNpm && process.ppid !== parent;
}

export function stopWhenNpmGoesAway() {
  if (!underNpm) return;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 250).unref();
}
