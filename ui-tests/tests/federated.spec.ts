import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { SHOTS_DIR } from './notebooks';

const PANEL_ID = 'executorlab-task-monitor';

// Runs against app/build-federated: executorlab comes from the prebuilt labextension in
// executorlab/labextension, exactly as an installed package delivers it.
test.describe('executorlab as a prebuilt (federated) labextension', () => {
  test('is listed in the page config and provides its settings schema', async ({ page }) => {
    const federated = await page.evaluate(() => {
      const data = document.getElementById('jupyter-config-data')?.textContent ?? '{}';
      return (JSON.parse(data).federated_extensions ?? []).map((e: { name: string }) => e.name);
    });
    expect(federated).toContain('executorlab');

    const response = await page.request.get('lab/api/settings/executorlab:task-monitor');
    expect(response.ok()).toBe(true);
    const settings = await response.json();
    expect(settings.schema.properties).toHaveProperty('showFinishedTasks');
  });

  test('adds the Executors sidebar panel', async ({ page }) => {
    const tab = page.sidebar.getTabLocator(PANEL_ID);
    await expect(tab).toHaveCount(1);
    await page.sidebar.openTab(PANEL_ID);
    expect(await page.sidebar.isTabOpen(PANEL_ID)).toBe(true);
    await expect(page.locator(`#${PANEL_ID} .jp-executorlab-TaskMonitor`)).toBeVisible();
    await page.screenshot({ path: path.join(SHOTS_DIR, 'task-monitor-federated.png') });
  });
});
