// Vite builds the browser side (web/) and serves test pages in development. `shared/` is plain TypeScript
// that Vite compiles for the browser as it is.
import { defineConfig } from 'vite';

export default defineConfig({
  root: '.',
  publicDir: 'public',
  build: {
    outDir: 'dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: { host: '127.0.0.1' },
  esbuild: { target: 'es2022' },
});
