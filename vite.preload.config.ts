import { defineConfig } from 'vite';

// The preload runs sandboxed: it must be one CommonJS file that requires only 'electron'.
export default defineConfig({
  build: {
    outDir: 'dist/preload',
    // tsc also writes dist/preload/channels.js (the shell imports the channel list): keep it.
    emptyOutDir: false,
    minify: false,
    lib: { entry: 'preload/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
