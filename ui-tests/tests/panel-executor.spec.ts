import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

test.describe('Executors started from the panel', () => {
  test('a notebook uses an executor started from the panel by name, then the panel stops it', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells('import executorlab\nexe = executorlab.connect("shared")\nprint(exe.submit(pow, 2, 10).result())'),
      'text',
      `${tmpPath}/connect.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/connect.ipynb`);
    await page.notebook.activate('connect.ipynb');
    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);
    await panel.locator('[data-action="new-executor"]').click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.getByTestId('executorlab-new-executor-name').fill('shared');
    await dialog.getByTestId('executorlab-new-executor-max-cores').fill('2');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'new-executor-dialog.png') });
    await dialog.locator('.jp-mod-accept').click();
    await expect(page.getByTestId('executorlab-new-executor-connect')).toContainText('executorlab.connect("shared")');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    const item = panel.locator('.jp-executorlab-ExecutorList-item[data-owner="panel"]');
    await expect(item).toHaveCount(1);
    await expect(item).toContainText('shared');

    await page.notebook.activate('connect.ipynb');
    await page.notebook.runCell(0);
    expect((await page.notebook.getCellTextOutput(0))?.join('').trim()).toBe('1024');
    await expect(panel.locator('.jp-executorlab-TaskRow[data-fn-name="pow"]')).toHaveAttribute('data-state', 'done');

    await item.locator('[data-action="stop-executor"]').click();
    await expect(item).toHaveCount(0);
  });
});
