import { FINISHED_STATES, ITaskView, TaskState } from '../tokens';

/**
 * User settings that decide which tasks the monitor lists.
 */
export interface ITaskFilter {
  showFinishedTasks: boolean;
  /** Most recent finished tasks kept in the list; unfinished ones are always shown. */
  maxFinishedTasks: number;
}

export const DEFAULT_TASK_FILTER: ITaskFilter = {
  showFinishedTasks: true,
  maxFinishedTasks: 200
};

export function isFinished(state: TaskState): boolean {
  return FINISHED_STATES.includes(state);
}

/**
 * Tasks to list, in the given order (newest first), after applying `filter`.
 */
export function visibleTasks(
  tasks: readonly ITaskView[],
  filter: ITaskFilter
): ITaskView[] {
  let finishedLeft = filter.showFinishedTasks
    ? Math.max(0, filter.maxFinishedTasks)
    : 0;
  return tasks.filter(task => {
    if (!isFinished(task.state)) {
      return true;
    }
    if (finishedLeft > 0) {
      finishedLeft--;
      return true;
    }
    return false;
  });
}

/**
 * Number of tasks in each state.
 */
export function countByState(
  tasks: readonly ITaskView[]
): Record<TaskState, number> {
  const counts: Record<TaskState, number> = {
    waiting: 0,
    queued: 0,
    running: 0,
    done: 0,
    error: 0,
    cancelled: 0
  };
  for (const task of tasks) {
    counts[task.state]++;
  }
  return counts;
}
