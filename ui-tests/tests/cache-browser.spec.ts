import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const BROWSER_ID = 'executorlab-cache-browser';

test.describe('Executor Cache browser', () => {
  test('lists a cache directory and Clean cache removes its files after saying how many', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'import os, tempfile',
          'from executorlab import SingleNodeExecutor',
          'cache = tempfile.mkdtemp(prefix="executorlab-ui-cache-")',
          'with SingleNodeExecutor(cache_directory=cache) as exe:',
          '    print([exe.submit(pow, 2, n).result() for n in range(3)])',
          'print(cache)'
        ].join('\n'),
        'print(sorted(os.listdir(cache)))'
      ),
      'text',
      `${tmpPath}/cache.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/cache.ipynb`);
    await page.notebook.activate('cache.ipynb');
    await page.notebook.runCell(0);
    const output = (await page.notebook.getCellTextOutput(0))?.join('') ?? '';
    expect(output).toContain('[1, 2, 4]');
    const directory = output.trim().split('\n').pop()!.trim();

    await page.evaluate(() => window.jupyterapp.commands.execute('executorlab:open-cache-browser'));
    const browser = page.locator(`#${BROWSER_ID}`);
    await expect(browser).toBeVisible();
    const input = browser.getByTestId('executorlab-cache-directory');
    await input.fill(directory);
    await input.press('Enter');
    const rows = browser.locator('.jp-ExecutorlabCache-row');
    await expect(rows).toHaveCount(3);
    await expect(rows.first()).toHaveAttribute('data-status', 'done');
    await expect(browser.getByTestId('executorlab-cache-totals')).toContainText('3');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'cache-browser-light.png') });
    await page.theme.setDarkTheme();
    await page.screenshot({ path: path.join(SHOTS_DIR, 'cache-browser-dark.png') });
    await page.theme.setLightTheme();

    await browser.locator('[data-action="clean"]').click();
    const modeDialog = page.locator('.jp-Dialog');
    await modeDialog.getByTestId('executorlab-cache-clean-mode-all').check();
    await modeDialog.locator('.jp-mod-accept').click();
    const confirmation = page.getByTestId('executorlab-cache-clean-confirmation');
    await expect(confirmation).toContainText('This deletes 3 files');
    await expect(confirmation).toContainText(directory);
    await page.screenshot({ path: path.join(SHOTS_DIR, 'cache-browser-clean-dialog.png') });
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(rows).toHaveCount(0);

    // Checked on disk, by the kernel.
    await page.notebook.activate('cache.ipynb');
    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('').trim()).toBe('[]');
  });
});
