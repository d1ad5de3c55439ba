import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { demoNotebook, firstCodeCellIndex, notebookWithCells, SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

test.describe('Executors sidebar (executorlab bundled in the app)', () => {
  test('lists the future the demo notebook ran, as done', async ({ page, tmpPath }) => {
    const notebook = demoNotebook();
    const cell = firstCodeCellIndex(notebook);
    expect(await page.contents.uploadContent(notebook, 'text', `${tmpPath}/demo.ipynb`)).toBe(
      true
    );
    await page.notebook.openByPath(`${tmpPath}/demo.ipynb`);
    await page.notebook.activate('demo.ipynb');

    await page.notebook.runCell(cell);
    expect((await page.notebook.getCellTextOutput(cell))?.join('').trim()).toBe('2');

    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);
    const row = panel.locator('.jp-executorlab-TaskRow[data-fn-name="sum"]');
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute('data-state', 'done');
    await expect(row.locator('.jp-executorlab-StateBadge')).toHaveText('Done');
    await expect(row.locator('.jp-executorlab-TaskRow-runtime')).toHaveText(/\d s$/);
    await expect(panel.locator('.jp-executorlab-ConnectionNotice')).toHaveCount(0);

    await page.screenshot({ path: path.join(SHOTS_DIR, 'task-monitor-demo.png') });
  });

  test('shows a task running, then done, without reloading', async ({ page, tmpPath }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'import time',
          'from executorlab import SingleNodeExecutor',
          'exe = SingleNodeExecutor()',
          'future = exe.submit(time.sleep, 4)'
        ].join('\n'),
        'future.result(); exe.shutdown(wait=True); print("finished")'
      ),
      'text',
      `${tmpPath}/live.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/live.ipynb`);
    await page.notebook.activate('live.ipynb');
    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(panel.locator('.jp-executorlab-TaskMonitor-empty')).toBeVisible();

    await page.notebook.runCell(0);
    const row = panel.locator('.jp-executorlab-TaskRow[data-fn-name="sleep"]');
    // Starting the worker process may take a while on a loaded machine.
    await expect(row).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await page.screenshot({ path: path.join(SHOTS_DIR, 'task-monitor-running.png') });

    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('')).toContain('finished');
    await expect(row).toHaveAttribute('data-state', 'done');
    // The final runtime is the bridge's measurement of the call, so it covers the sleep.
    const runtime = await row.locator('.jp-executorlab-TaskRow-runtime').textContent();
    expect(runtime).toMatch(/^\d+(\.\d)? s$/);
    expect(parseFloat(runtime ?? '')).toBeGreaterThanOrEqual(4);
  });
});

test.describe('bridge restarts under a running JupyterLab', () => {
  test('a killed bridge is replaced, the panel reconnects and the same kernel submits again', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        'from executorlab import SingleNodeExecutor\nexe = SingleNodeExecutor()\nexe.submit(sum, [1, 1]).result()',
        'exe.submit(sum, [2, 3]).result()'
      ),
      'text',
      `${tmpPath}/restart.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/restart.ipynb`);
    await page.notebook.activate('restart.ipynb');
    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);

    await page.notebook.runCell(0);
    expect((await page.notebook.getCellTextOutput(0))?.join('').trim()).toBe('2');
    const bridgePid = async (): Promise<number | null> => {
      const response = await page.request.get('executorlab/api/status');
      return response.ok() ? ((await response.json()) as { pid: number }).pid : null;
    };
    const first = await bridgePid();
    expect(first).toBeGreaterThan(0);
    const rows = panel.locator('.jp-executorlab-TaskRow[data-fn-name="sum"]');
    await expect(rows).toHaveAttribute('data-state', 'done');
    const firstTaskId = await rows.getAttribute('data-task-id');

    process.kill(first!, 'SIGKILL');
    await expect.poll(bridgePid, { timeout: 15_000 }).not.toBe(first);
    await expect.poll(bridgePid, { timeout: 15_000 }).toBeGreaterThan(0);

    // The same executor object, in the same kernel, now runs on the new bridge.
    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('').trim()).toBe('5');
    // The panel reconnected by itself: the new bridge's snapshot replaced the old task.
    await expect(rows).not.toHaveAttribute('data-task-id', firstTaskId!, { timeout: 15_000 });
    await expect(rows).toHaveCount(1);
    await expect(rows).toHaveAttribute('data-state', 'done');
    await expect(panel.locator('.jp-executorlab-ConnectionNotice')).toHaveCount(0);
    await page.screenshot({ path: path.join(SHOTS_DIR, 'task-monitor-after-restart.png') });
  });
});
