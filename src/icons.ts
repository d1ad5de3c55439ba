import { LabIcon } from '@jupyterlab/ui-components';

// Three stacked task bars; `jp-icon3` lets the theme colour it like JupyterLab's own icons.
const executorsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="4" width="12" height="4" rx="1"/>
    <rect x="7" y="10" width="14" height="4" rx="1"/>
    <rect x="5" y="16" width="9" height="4" rx="1"/>
  </g>
</svg>`;

export const executorsIcon = new LabIcon({
  name: 'executorlab:executors',
  svgstr: executorsSvg
});
