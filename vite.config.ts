// Vite builds the web app (web/index.html, web/app/) and the viewer page (web/viewer.html) into dist/web,
// which every Node state server serves at / (node-peer/http/static.ts). `shared/` is plain TypeScript that
// Vite compiles for the browser as it is. `npm run dev` serves the same pages with hot reload and passes
// /api and /hls to a state server (STATEOS_SERVER, default http://127.0.0.1:8080, e.g. one `npm start` runs),
// so the app joins it as if that server had served the page.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const web = fileURLToPath(new URL('./web', import.meta.url));
const target = process.env.STATEOS_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: web,
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // hls.js alone is ~500 kB; it is loaded only when the player opens
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      input: { index: `${web}/index.html`, viewer: `${web}/viewer.html`, demo: `${web}/demo/index.html` },
    },
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': target, '/hls': target },
  },
});
