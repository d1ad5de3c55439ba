import { LabIcon } from '@jupyterlab/ui-components';

// A stack of stored results (a database drum); `jp-icon3` lets the theme colour it.
const cacheSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <ellipse cx="12" cy="5" rx="8" ry="3"/>
    <path d="M4 8v3c0 1.66 3.58 3 8 3s8-1.34 8-3V8c0 1.66-3.58 3-8 3S4 9.66 4 8z"/>
    <path d="M4 14v3c0 1.66 3.58 3 8 3s8-1.34 8-3v-3c0 1.66-3.58 3-8 3s-8-1.34-8-3z"/>
  </g>
</svg>`;

export const cacheIcon = new LabIcon({
  name: 'executorlab:cache',
  svgstr: cacheSvg
});
