// The dashboard: a static single-page app built into web/dist and served by the control
// plane at / (src/api/dashboard-assets.ts). `npm run build:web` builds it.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  root: __dirname,
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The budget is 200 KB of gzipped JavaScript for the first load (tested in the browser test).
    chunkSizeWarningLimit: 400,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite web` during development: the API of a local `slipway server`.
    proxy: { '/api': 'http://127.0.0.1:7420' },
  },
});
