import * as React from 'react';

export interface ITaskOutputProps {
  /** What the task printed (stdout and stderr, the bridge keeps the last 64 KiB). */
  text: string;
}

/**
 * Pixels from the bottom within which the view counts as "at the end".
 */
const STICK_SLACK = 8;

/**
 * A task's output, kept scrolled to the end as it grows unless the reader
 * scrolled up to read something earlier.
 */
export function TaskOutput({ text }: ITaskOutputProps): JSX.Element {
  const ref = React.useRef<HTMLPreElement>(null);
  const atEnd = React.useRef(true);

  React.useLayoutEffect(() => {
    const pre = ref.current;
    if (pre && atEnd.current) {
      pre.scrollTop = pre.scrollHeight;
    }
  }, [text]);

  const onScroll = () => {
    const pre = ref.current;
    if (pre) {
      atEnd.current =
        pre.scrollHeight - pre.scrollTop - pre.clientHeight <= STICK_SLACK;
    }
  };

  return (
    <pre
      ref={ref}
      className="jp-executorlab-TaskDetails-output"
      tabIndex={0}
      onScroll={onScroll}
    >
      {text}
    </pre>
  );
}
