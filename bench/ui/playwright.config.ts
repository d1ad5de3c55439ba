// The panel benchmarks run in the same JupyterLab, server and Chromium as the UI tests (bundled build).
import { defineConfig } from '@playwright/test';
import * as path from 'path';

import uiConfig from '../../ui-tests/playwright.config';

export default defineConfig({
  ...uiConfig,
  testDir: __dirname,
  testMatch: /\.bench\.ts$/,
  outputDir: path.join(__dirname, '..', '..', 'ui-tests', 'test-results', 'bench'),
  timeout: 600_000,
  projects: uiConfig.projects!.filter(p => p.name === 'bundled').map(p => ({ ...p, testIgnore: undefined })),
  webServer: (uiConfig.webServer as unknown[]).slice(0, 1) as typeof uiConfig.webServer
});
