// Runs in an Electron utility process (not the main process: systeminformation calls the GPU
// tools synchronously, and a hung driver must not freeze the tray). Prints the inventory as JSON
// on stdout, like the `node -e` child the core uses headless.

import si from 'systeminformation';
import { INVENTORY_KEYS } from '../core/gpu/inventory.js';

try {
  const [g, m] = await Promise.all([si.graphics(), si.mem()]);
  const controllers = (g?.controllers ?? []).map((c) =>
    Object.fromEntries(
      INVENTORY_KEYS.filter((k) => (c as unknown as Record<string, unknown>)[k] !== undefined).map(
        (k) => [k, (c as unknown as Record<string, unknown>)[k]],
      ),
    ),
  );
  process.stdout.write(JSON.stringify({ controllers, memTotalBytes: m.total }), () =>
    process.exit(0),
  );
} catch (e) {
  process.stderr.write(String((e as Error)?.message ?? e), () => process.exit(1));
}
