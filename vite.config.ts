import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dashboard is served by the core itself (same origin in Electron and in a browser).
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true },
});
