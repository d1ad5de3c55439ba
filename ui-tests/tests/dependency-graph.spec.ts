import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const GRAPH_ID = 'executorlab-dependency-graph';
const PANEL_ID = 'executorlab-task-monitor';

test.describe('Dependency graph', () => {
  test('draws a diamond with live state colours and shares its selection with the table', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'import time',
          'from executorlab import SingleNodeExecutor',
          'def top(): time.sleep(3); return 1',
          'def left(x): return x + 1',
          'def right(x): return x + 2',
          'def bottom(a, b): return a * b',
          'def broken(x): raise ValueError("no")',
          'exe = SingleNodeExecutor()',
          'a = exe.submit(top)',
          'd = exe.submit(bottom, exe.submit(left, a), exe.submit(right, a))',
          'e = exe.submit(broken, a)'
        ].join('\n'),
        'print(d.result())'
      ),
      'text',
      `${tmpPath}/diamond.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/diamond.ipynb`);
    await page.notebook.activate('diamond.ipynb');
    await page.evaluate(() => window.jupyterapp.commands.execute('executorlab:open-dependency-graph'));
    const graph = page.locator(`#${GRAPH_ID}`);
    await expect(graph).toBeVisible();

    await page.notebook.activate('diamond.ipynb');
    await page.notebook.runCell(0);
    await page.evaluate(() => window.jupyterapp.commands.execute('executorlab:open-dependency-graph'));
    const nodes = graph.locator('[data-task-id]');
    await expect(nodes).toHaveCount(5, { timeout: 30_000 });
    await expect(graph.locator('path.jp-ExecutorlabGraph-edge')).toHaveCount(5);
    // While top() runs, the others wait on it.
    const node = (fn: string) => graph.locator(`[data-task-id][data-fn-name="${fn}"]`);
    await expect(node('top')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await expect(node('bottom')).toHaveAttribute('data-state', 'waiting');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'dependency-graph-running.png') });

    await page.notebook.activate('diamond.ipynb');
    await page.notebook.runCell(1);
    expect((await page.notebook.getCellTextOutput(1))?.join('').trim()).toBe('6');
    await page.evaluate(() => window.jupyterapp.commands.execute('executorlab:open-dependency-graph'));
    for (const fn of ['top', 'left', 'right', 'bottom']) {
      await expect(node(fn)).toHaveAttribute('data-state', 'done');
    }
    await expect(node('broken')).toHaveAttribute('data-state', 'error');

    // Selecting in the graph selects the row in the task table, and the other way round.
    await page.sidebar.openTab(PANEL_ID);
    await node('bottom').click();
    const rows = page.locator(`#${PANEL_ID} .jp-executorlab-TaskRow`);
    await expect(rows.filter({ has: page.locator('text=bottom') }).first()).toHaveClass(/jp-mod-selected/);
    await page.locator(`#${PANEL_ID} .jp-executorlab-TaskRow[data-fn-name="left"]`).click();
    await expect(node('left')).toHaveClass(/jp-mod-selected/);
    await page.screenshot({ path: path.join(SHOTS_DIR, 'dependency-graph-light.png') });
    await page.theme.setDarkTheme();
    await page.screenshot({ path: path.join(SHOTS_DIR, 'dependency-graph-dark.png') });
    await page.theme.setLightTheme();
  });
});
