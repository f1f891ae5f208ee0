import { defineConfig } from 'vite';

// The console is served by `kairos serve` at "/": hashed files under /assets/ (cached for a
// year), index.html without caching. KAIROS_CONSOLE_OUT (set by the CMake build) puts the output
// in the build folder instead of web/dist. `npm run dev` proxies the API to a running server
// (KAIROS_API, default http://127.0.0.1:8080).
const api = process.env.KAIROS_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.KAIROS_CONSOLE_OUT ?? 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/v1': api, '/metrics': api, '/healthz': api, '/readyz': api },
  },
});
