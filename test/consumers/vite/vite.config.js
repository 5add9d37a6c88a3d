// Vite production build of this consumer. `base: './'` keeps asset URLs relative, so the built page works
// from whatever path the test server mounts it at.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
