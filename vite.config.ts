import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { formSchema } from './main/core/settings/form.js';

// The dashboard is served by the core itself (same origin in Electron and in a browser).
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  // The settings form's field tree and help text, from the one settings definition (renderer/src/env.d.ts).
  define: { __SETTINGS_SCHEMA__: JSON.stringify(formSchema()) },
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true },
});
