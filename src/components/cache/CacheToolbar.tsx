import { TranslationBundle } from '@jupyterlab/translation';
import {
  cleaningIcon,
  deleteIcon,
  LabIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

export interface ICacheToolbarProps {
  /** The directory typed so far (opened on Enter). */
  directory: string;
  /** Cache directories to suggest. */
  directories: readonly string[];
  onDirectoryChange: (value: string) => void;
  /** The directory field got the focus (e.g. to update the suggestions). */
  onDirectoryFocus?: () => void;
  /** Open the typed directory. */
  onOpen: () => void;
  onRefresh: () => void;
  onDelete: () => void;
  onClean: () => void;
  selectionCount: number;
  /** Whether a directory is open (Refresh and Clean need one). */
  hasDirectory: boolean;
  /** Whether the open directory holds cache files (Clean needs some). */
  canClean: boolean;
  /** A request is under way. */
  busy: boolean;
  trans: TranslationBundle;
}

interface IButtonProps {
  action: string;
  icon: LabIcon;
  label: string;
  title: string;
  disabled: boolean;
  onClick: () => void;
}

function ToolbarButton({
  action,
  icon,
  label,
  title,
  disabled,
  onClick
}: IButtonProps): JSX.Element {
  return (
    <button
      type="button"
      className="jp-ExecutorlabCache-button jp-mod-styled"
      data-action={action}
      data-testid={`executorlab-cache-${action}`}
      title={title}
      disabled={disabled}
      onClick={onClick}
    >
      <icon.react tag="span" className="jp-ExecutorlabCache-buttonIcon" />
      <span className="jp-ExecutorlabCache-buttonLabel">{label}</span>
    </button>
  );
}

/**
 * Directory field (Enter opens it; kernels' cache directories are suggested),
 * Refresh, Delete selected, Clean cache….
 */
export function CacheToolbar({
  directory,
  directories,
  onDirectoryChange,
  onDirectoryFocus,
  onOpen,
  onRefresh,
  onDelete,
  onClean,
  selectionCount,
  hasDirectory,
  canClean,
  busy,
  trans
}: ICacheToolbarProps): JSX.Element {
  const listId = `${React.useId()}-directories`;
  return (
    <div className="jp-ExecutorlabCache-toolbar" role="toolbar">
      <label className="jp-ExecutorlabCache-directory">
        <span className="jp-ExecutorlabCache-directoryLabel">
          {trans.__('Directory')}
        </span>
        <input
          type="text"
          className="jp-ExecutorlabCache-directoryInput jp-mod-styled"
          data-testid="executorlab-cache-directory"
          list={listId}
          value={directory}
          placeholder={trans.__('Absolute path of a cache directory')}
          title={trans.__('Cache directory; press Enter to open it')}
          spellCheck={false}
          autoComplete="off"
          onChange={event => onDirectoryChange(event.currentTarget.value)}
          onFocus={onDirectoryFocus}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.preventDefault();
              onOpen();
            }
          }}
        />
        <datalist id={listId}>
          {directories.map(d => (
            <option key={d} value={d} />
          ))}
        </datalist>
      </label>
      <ToolbarButton
        action="refresh"
        icon={refreshIcon}
        label={trans.__('Refresh')}
        title={trans.__('List the directory again')}
        disabled={!hasDirectory}
        onClick={onRefresh}
      />
      <ToolbarButton
        action="delete"
        icon={deleteIcon}
        label={
          selectionCount > 0
            ? trans.__('Delete selected (%1)', selectionCount)
            : trans.__('Delete selected')
        }
        title={
          selectionCount > 0
            ? trans._n(
                'Delete the selected cache file',
                'Delete the %1 selected cache files',
                selectionCount
              )
            : trans.__('Select cache files to delete them')
        }
        disabled={selectionCount === 0 || busy}
        onClick={onDelete}
      />
      <ToolbarButton
        action="clean"
        icon={cleaningIcon}
        label={trans.__('Clean cache…')}
        title={trans.__(
          'Delete all cache files, the failed ones, or those older than some days'
        )}
        disabled={!hasDirectory || !canClean || busy}
        onClick={onClean}
      />
    </div>
  );
}
