import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

test.describe('Task details', () => {
  test('shows live output, a traceback, and cancels a running task from the panel', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'import time',
          'from executorlab import SingleNodeExecutor',
          'def talk():',
          '    for i in range(600):',
          '        print(f"line {i}", flush=True)',
          '        time.sleep(0.2)',
          'def fail():',
          '    raise ValueError("the input was wrong")',
          'exe = SingleNodeExecutor()',
          'f = exe.submit(talk)',
          'bad = exe.submit(fail)'
        ].join('\n'),
        'try:\n    f.result()\nexcept BaseException as error:\n    print(type(error).__name__)'
      ),
      'text',
      `${tmpPath}/details.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/details.ipynb`);
    await page.notebook.activate('details.ipynb');
    await page.notebook.runCell(0);
    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);

    const failed = panel.locator('.jp-executorlab-TaskRow[data-fn-name="fail"]');
    await expect(failed).toHaveAttribute('data-state', 'error', { timeout: 30_000 });
    await failed.click();
    const details = panel.locator('.jp-executorlab-TaskDetails');
    await expect(details.locator('.jp-executorlab-TaskDetails-traceback')).toContainText('ValueError');
    await expect(details).toContainText('the input was wrong');
    await expect(details.locator('[data-action="cancel"]')).toHaveCount(0);

    const talking = panel.locator('.jp-executorlab-TaskRow[data-fn-name="talk"]');
    await expect(talking).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await talking.click();
    const output = details.locator('.jp-executorlab-TaskDetails-output');
    await expect(output).toContainText('line 1');
    // It keeps coming while the task prints.
    await expect(output).toContainText('line 8', { timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS_DIR, 'task-details-running.png') });

    await details.locator('[data-action="cancel"]').click();
    await expect(talking).toHaveAttribute('data-state', 'cancelled', { timeout: 15_000 });
    await page.notebook.activate('details.ipynb');
    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('').trim()).toBe('CancelledError');
  });
});
