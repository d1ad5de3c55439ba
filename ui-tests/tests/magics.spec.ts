import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { notebookWithCells, SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

/** Prints a line every 0.5 s for 3 s. */
const TALKING_CELL = [
  'import time',
  'for i in range(6):',
  '    print(f"line {i}", flush=True)',
  '    time.sleep(0.5)'
].join('\n');

test.describe('Cell magics and live futures in cells', () => {
  test('a %%submit cell shows its output while the task runs, with and without --block', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        '%load_ext executorlab',
        `%%submit --block\n${TALKING_CELL}`,
        `%%submit\n${TALKING_CELL}`
      ),
      'text',
      `${tmpPath}/stream.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/stream.ipynb`);
    await page.notebook.activate('stream.ipynb');
    await page.notebook.runCell(0);

    // --block: the lines stream into the cell's own output while the cell runs.
    await page.notebook.runCell(1, { wait: false });
    const blocking = (await page.notebook.getCellLocator(1))!;
    await expect(blocking.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]')).toContainText('line 0', { timeout: 30_000 });
    await expect(blocking).not.toContainText('line 5');
    await expect(blocking.locator('.jp-executorlab-FutureView')).toHaveAttribute('data-state', 'running');
    await expect(blocking).toContainText('line 5', { timeout: 15_000 });
    await expect(blocking.locator('.jp-executorlab-FutureView')).toHaveAttribute('data-state', 'done', {
      timeout: 15_000
    });

    // Without --block the cell returns at once; its status line shows the output as it comes.
    await page.notebook.runCell(2);
    const returned = (await page.notebook.getCellLocator(2))!;
    const view = returned.locator('.jp-executorlab-FutureView');
    await expect(view).toHaveAttribute('data-state', /queued|running/);
    const output = returned.locator('.jp-executorlab-FutureView-output');
    await expect(output).toContainText('line 0', { timeout: 30_000 });
    await expect(output).not.toContainText('line 5');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'submit-streaming.png') });
    await expect(output).toContainText('line 5', { timeout: 15_000 });
    await expect(view).toHaveAttribute('data-state', 'done', { timeout: 15_000 });
  });

  test('the status line goes from running to done by itself and its link selects the task', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        '%load_ext executorlab',
        '%%submit -o fut --cores 2\nimport time\ntime.sleep(4)\n"finished"',
        'fut.result()'
      ),
      'text',
      `${tmpPath}/status.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/status.ipynb`);
    await page.notebook.activate('status.ipynb');
    await page.notebook.runCell(0);
    await page.notebook.runCell(1);
    const cell = (await page.notebook.getCellLocator(1))!;
    const view = cell.locator('.jp-executorlab-FutureView');
    await expect(view).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await expect(view).toContainText('2');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'future-status-running.png') });
    const taskId = await view.getAttribute('data-task-id');
    expect(taskId).toMatch(/^t-/);

    // Nobody re-runs the cell: the line follows the bridge's events.
    await expect(view).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
    await page.screenshot({ path: path.join(SHOTS_DIR, 'future-status-done.png') });

    await view.locator('.jp-executorlab-FutureView-link').click();
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(panel).toBeVisible();
    const row = panel.locator(`.jp-executorlab-TaskRow[data-task-id="${taskId}"]`);
    await expect(row).toHaveAttribute('aria-selected', 'true');
    await expect(row).toHaveAttribute('data-fn-name', /^%%submit In\[\d+\]$/);

    await page.notebook.activate('status.ipynb');
    await page.notebook.runCell(2);
    expect((await page.notebook.getCellTextOutput(2))?.join('')).toContain("'finished'");
  });

  test('plot_dependency_graph=True draws the graph in the cell', async ({ page, tmpPath }) => {
    await page.contents.uploadContent(
      notebookWithCells(
        [
          'from executorlab import SingleNodeExecutor, split_future',
          'def add(x, y):',
          '    return x + y',
          'def pair(x):',
          '    return x, x + 1',
          'with SingleNodeExecutor(plot_dependency_graph=True) as exe:',
          '    first = exe.submit(add, 1, 2)',
          '    left, right = split_future(exe.submit(pair, first), 2)',
          '    total = exe.submit(add, x=left, y=right)',
          'print(total.result())'
        ].join('\n')
      ),
      'text',
      `${tmpPath}/graph.ipynb`
    );
    await page.notebook.openByPath(`${tmpPath}/graph.ipynb`);
    await page.notebook.activate('graph.ipynb');
    await page.notebook.runCell(0);
    const cell = (await page.notebook.getCellLocator(0))!;
    const graph = cell.locator('.jp-executorlab-CellGraph');
    await expect(graph).toBeVisible({ timeout: 30_000 });
    await expect(graph.locator('.jp-executorlab-CellGraph-node[data-kind="function"]')).toHaveCount(3);
    await expect(graph.locator('.jp-executorlab-CellGraph-node[data-kind="input"]')).toHaveCount(2);
    await expect(graph.locator('.jp-executorlab-CellGraph-edge')).toHaveCount(5);
    await expect(graph).toContainText('pair');
    // Nothing ran: the futures resolved to None.
    await expect(cell.locator('.jp-OutputArea-output').last()).toContainText('None');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'cell-graph.png') });
  });
});
