// Command-line switches the app understands (also on a second launch): `--dashboard[=section]`
// opens the dashboard, e.g. `--dashboard=services/ollama/logs`. Pure.

const SECTION = /^[a-z]+(\/[a-z0-9][a-z0-9-]{0,31}(\/logs)?)?$/;

export function sectionFromArgv(argv: readonly string[]): string | undefined {
  for (const a of argv) {
    if (a === '--dashboard') return '';
    const m = /^--dashboard=(.*)$/.exec(a);
    if (m) return SECTION.test(m[1]!) ? m[1]! : '';
  }
  return undefined;
}
