import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'jsdom',
    include: ['test/**/*.spec.{ts,tsx}'],
    setupFiles: ['test/setup.ts'],
    restoreMocks: true,
    server: {
      deps: {
        // JupyterLab publishes ES modules without "type": "module"; let Vite transform them.
        inline: [/@jupyterlab\//, /@jupyter\//, /@lumino\//]
      }
    }
  }
});
