import * as fs from 'fs';
import * as path from 'path';

export const DEMO_NOTEBOOK = path.resolve(__dirname, '..', '..', 'examples', 'demo.ipynb');
export const SHOTS_DIR = path.resolve(__dirname, '..', 'shots');

interface INotebookJSON {
  cells: { cell_type: string; source: string | string[] }[];
}

/**
 * A minimal nbformat 4 notebook with one code cell per source.
 */
export function notebookWithCells(...sources: string[]): string {
  return JSON.stringify({
    cells: sources.map(source => ({
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source
    })),
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' }
    },
    nbformat: 4,
    nbformat_minor: 5
  });
}

/**
 * The repository's demo notebook, the one `scripts/dev.sh lab` opens.
 */
export function demoNotebook(): string {
  return fs.readFileSync(DEMO_NOTEBOOK, 'utf8');
}

export function firstCodeCellIndex(notebook: string): number {
  const index = (JSON.parse(notebook) as INotebookJSON).cells.findIndex(
    cell => cell.cell_type === 'code'
  );
  if (index < 0) {
    throw new Error('the notebook has no code cell');
  }
  return index;
}
