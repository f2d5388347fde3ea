import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console's build (`npm run web:build`): web/ → web/dist, static files only. No inline script
 * or style is emitted (the CSP of the local console server and of CloudFront forbids them), and
 * the runtime configuration is fetched from /config.json, written where the files are served.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    // Vite inlines small assets as data: URLs by default; the CSP allows none but images.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});
