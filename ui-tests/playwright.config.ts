// Playwright + galata against the assembled JupyterLab (app/) served by Debian's
// jupyter_server with executorlab's server extension, in Debian's Chromium.
//
// Two projects, each with its own server:
//   bundled    app/build            executorlab compiled into the app bundle (day-to-day tests)
//   federated  app/build-federated  executorlab loaded as the prebuilt labextension that ships
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defineConfig } from '@playwright/test';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

/** A port nothing listens on now (the OS picks it). */
function freePort(): string {
  return execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
  ]).toString();
}

// Playwright loads this file in the runner and again in every worker: decide ports and
// directories once and hand them down through the environment.
const env = process.env;
env.EXECUTORLAB_UI_PORT ??= freePort();
env.EXECUTORLAB_UI_FEDERATED_PORT ??= freePort();
if (!env.EXECUTORLAB_UI_TMP) {
  env.EXECUTORLAB_UI_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'executorlab-ui-'));
  console.log(`executorlab UI tests: server roots and logs in ${env.EXECUTORLAB_UI_TMP}`);
}

const START = path.join(__dirname, 'app', 'start-server.sh');

for (const build of ['build', 'build-federated']) {
  if (!fs.existsSync(path.join(__dirname, 'app', build, 'bundle.js'))) {
    throw new Error(`ui-tests/app/${build} is missing: run "npm run build" at the repository root`);
  }
}

function server(name: string, port: string, staticDir: string) {
  const root = path.join(env.EXECUTORLAB_UI_TMP!, name);
  fs.mkdirSync(path.join(root, 'notebooks'), { recursive: true });
  // Jupyter logs every request; keep them in a file next to the notebooks for failures.
  return {
    command: `${START} ${port} ${path.join(root, 'notebooks')} > ${path.join(root, 'server.log')} 2>&1`,
    env: { JLAB_STATIC_DIR: staticDir, JLAB_STATE_DIR: path.join(root, 'state') },
    url: `http://127.0.0.1:${port}/lab`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const
  };
}

const chromium = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run'
  ]
};

export default defineConfig({
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  retries: 0,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    ...baseConfig.use,
    headless: true,
    video: 'off', // ffmpeg cannot be downloaded here
    trace: 'retain-on-failure',
    launchOptions: chromium
  },
  projects: [
    {
      name: 'bundled',
      testIgnore: /federated\.spec\.ts/,
      use: { baseURL: `http://127.0.0.1:${env.EXECUTORLAB_UI_PORT}` }
    },
    {
      name: 'federated',
      testMatch: /federated\.spec\.ts/,
      use: { baseURL: `http://127.0.0.1:${env.EXECUTORLAB_UI_FEDERATED_PORT}` }
    }
  ],
  webServer: [
    server('bundled', env.EXECUTORLAB_UI_PORT!, 'build'),
    server('federated', env.EXECUTORLAB_UI_FEDERATED_PORT!, 'build-federated')
  ]
});
