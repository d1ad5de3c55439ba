import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

test.describe('A 50-task fan-out with failures', () => {
  test('states change live in the table, the usage view shows the workers, and both survive a kernel restart', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'import time',
          'from executorlab import SingleNodeExecutor',
          'def work(i):',
          '    time.sleep(0.3)',
          '    if i % 5 == 0:',
          '        raise ValueError(f"item {i} is bad")',
          '    return i',
          'exe = SingleNodeExecutor(max_workers=2, block_allocation=True)',
          'futures = [exe.submit(work, i) for i in range(50)]'
        ].join('\n'),
        'print(sum(1 for f in futures if f.exception() is None))'
      ),
      'text',
      `${tmpPath}/fanout.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/fanout.ipynb`);
    await page.notebook.activate('fanout.ipynb');
    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);
    const chip = (state: string) => panel.locator(`.jp-executorlab-TaskFilterBar-state[data-state="${state}"]`);

    await page.notebook.runCell(0);
    // While the two workers go through the queue: some running, some queued, some already done.
    await expect(chip('running')).toHaveAttribute('data-count', '2', { timeout: 30_000 });
    await expect(chip('queued')).not.toHaveAttribute('data-count', '0');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'fan-out-running.png') });

    await page.evaluate(() => window.jupyterapp.commands.execute('executorlab:open-resource-usage'));
    const usage = page.locator('#executorlab-resource-usage');
    await expect(usage).toBeVisible();
    await expect(usage.locator('tr[data-worker-id]')).toHaveCount(2, { timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS_DIR, 'resource-usage-light.png') });
    await page.theme.setDarkTheme();
    await page.screenshot({ path: path.join(SHOTS_DIR, 'resource-usage-dark.png') });
    await page.theme.setLightTheme();

    await page.notebook.activate('fanout.ipynb');
    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('').trim()).toBe('40');
    await expect(chip('done')).toHaveAttribute('data-count', '40');
    await expect(chip('error')).toHaveAttribute('data-count', '10');

    // A kernel restart: the records stay (orphaned), the views keep working.
    await page.notebook.activate('fanout.ipynb');
    await page.evaluate(() => {
      void window.jupyterapp.commands.execute('kernelmenu:restart');
    });
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    // The kernel's executor goes away from the list (shut down, nothing left to run) ...
    await expect(panel.locator('.jp-executorlab-ExecutorList-item')).toHaveCount(0, { timeout: 30_000 });
    // ... its calls stay listed, marked as orphaned.
    await expect(chip('done')).toHaveAttribute('data-count', '40');
    await panel.locator('.jp-executorlab-TaskRow').first().click();
    await expect(panel.locator('.jp-executorlab-TaskDetails')).toContainText('gone');
  });
});
