import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ITaskView } from '../tokens';
import { TaskRow } from './TaskRow';

export interface ITaskTableProps {
  tasks: readonly ITaskView[];
  now: number;
  trans: TranslationBundle;
  selectedId?: string | null;
  onSelect?: (id: string) => void;
}

/**
 * Futures in a table, in the order given.
 */
export function TaskTable({ tasks, now, trans, selectedId, onSelect }: ITaskTableProps): JSX.Element {
  return (
    <table className="jp-executorlab-TaskTable">
      <thead>
        <tr>
          <th className="jp-executorlab-TaskTable-function">
            {trans.__('Function')}
          </th>
          <th className="jp-executorlab-TaskTable-runtime">
            {trans.__('Runtime')}
          </th>
        </tr>
      </thead>
      <tbody>
        {tasks.map(task => (
          <TaskRow
            key={task.id}
            task={task}
            now={now}
            trans={trans}
            selected={task.id === selectedId}
            onSelect={onSelect}
          />
        ))}
      </tbody>
    </table>
  );
}
