import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/ui/', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/ui/', import.meta.url));
/** `npx vite` serves the UI from source and sends the API to a running node (ARCA_UI_BACKEND). */
const backend = process.env.ARCA_UI_BACKEND ?? 'http://127.0.0.1:8081';

/** The web UI (src/ui), built by scripts/build-ui.mjs into dist/ui and served at /ui/ by every node. */
export default defineConfig({
  root,
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/artifactory': backend,
      '/access': backend,
      '/ui/api': backend,
    },
  },
});
