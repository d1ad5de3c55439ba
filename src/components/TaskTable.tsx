import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ITaskView } from '../tokens';
import { TaskRow } from './TaskRow';

export interface ITaskTableProps {
  tasks: readonly ITaskView[];
  now: number;
  trans: TranslationBundle;
}

/**
 * Futures in a table, in the order given.
 */
export function TaskTable({ tasks, now, trans }: ITaskTableProps): JSX.Element {
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
          <TaskRow key={task.id} task={task} now={now} trans={trans} />
        ))}
      </tbody>
    </table>
  );
}
