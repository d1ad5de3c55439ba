import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes } from '../../cache/format';
import {
  CleanMode,
  ICacheBrowserModel,
  ICleanReport
} from '../../cache/tokens';

/**
 * What the first dialog asks: which files to clean.
 */
export interface ICleanChoice {
  mode: CleanMode;
  /** For `older`: files not modified for this many days go. */
  days: number;
}

export const DEFAULT_CLEAN_CHOICE: Readonly<ICleanChoice> = {
  mode: 'failed',
  days: 30
};

export function isValidDays(days: number): boolean {
  return Number.isFinite(days) && days >= 0;
}

export interface ICleanModeFormProps {
  mode: CleanMode;
  /** The days field as typed. */
  days: string;
  onModeChange: (mode: CleanMode) => void;
  onDaysChange: (days: string) => void;
  /** Say that the days typed are not a number >= 0. */
  invalidDays?: boolean;
  trans: TranslationBundle;
}

/**
 * Body of the first dialog: all / failed only / older than N days.
 */
export function CleanModeForm({
  mode,
  days,
  onModeChange,
  onDaysChange,
  invalidDays = false,
  trans
}: ICleanModeFormProps): JSX.Element {
  const name = `${React.useId()}-mode`;
  const radio = (value: CleanMode, label: React.ReactNode) => (
    <label className="jp-ExecutorlabCache-cleanOption">
      <input
        type="radio"
        name={name}
        value={value}
        data-testid={`executorlab-cache-clean-mode-${value}`}
        checked={mode === value}
        onChange={() => onModeChange(value)}
      />
      {label}
    </label>
  );
  return (
    <div className="jp-ExecutorlabCache-cleanForm" role="radiogroup">
      {radio('failed', trans.__('Failed calls only'))}
      {radio(
        'older',
        <span className="jp-ExecutorlabCache-cleanOlder">
          {trans.__('Not modified for')}
          <input
            type="number"
            min={0}
            step={1}
            className="jp-ExecutorlabCache-cleanDays jp-mod-styled"
            data-testid="executorlab-cache-clean-days"
            aria-label={trans.__('Days')}
            aria-invalid={invalidDays || undefined}
            value={days}
            onChange={event => {
              onDaysChange(event.currentTarget.value);
              onModeChange('older');
            }}
            onFocus={() => onModeChange('older')}
          />
          {trans.__('days')}
        </span>
      )}
      {radio('all', trans.__('All cache files'))}
      {invalidDays && (
        <div className="jp-ExecutorlabCache-cleanInvalid" role="alert">
          {trans.__('Enter a number of days, 0 or more.')}
        </div>
      )}
      <div className="jp-ExecutorlabCache-cleanNote">
        {trans.__('Files an unfinished call uses are always kept.')}
      </div>
    </div>
  );
}

/**
 * The first dialog's body as a widget whose `getValue()` is the choice.
 */
export class CleanModeBody
  extends ReactWidget
  implements Dialog.IBodyWidget<ICleanChoice>
{
  constructor(options: CleanModeBody.IOptions) {
    super();
    this._mode = options.choice.mode;
    const days = options.choice.days;
    this._days = Number.isFinite(days) ? String(days) : '';
    this._invalidDays = options.invalidDays ?? false;
    this._trans = options.trans;
    this.addClass('jp-ExecutorlabCache-cleanDialogBody');
  }

  getValue(): ICleanChoice {
    const days = this._days.trim() === '' ? NaN : Number(this._days);
    return { mode: this._mode, days };
  }

  protected render(): JSX.Element {
    return (
      <CleanModeForm
        mode={this._mode}
        days={this._days}
        invalidDays={this._invalidDays}
        onModeChange={mode => {
          this._mode = mode;
          this.update();
        }}
        onDaysChange={days => {
          this._days = days;
          this._invalidDays = false;
          this.update();
        }}
        trans={this._trans}
      />
    );
  }

  private _mode: CleanMode;
  private _days: string;
  private _invalidDays: boolean;
  private _trans: TranslationBundle;
}

export namespace CleanModeBody {
  export interface IOptions {
    choice: ICleanChoice;
    invalidDays?: boolean;
    trans: TranslationBundle;
  }
}

/**
 * "This deletes N files (X MB) from <dir>." (+ "K files in use are kept."), or that
 * nothing matches.
 */
export function cleanPlanLines(
  report: ICleanReport,
  directory: string,
  trans: TranslationBundle
): string[] {
  const lines =
    report.count > 0
      ? [
          trans._n(
            'This deletes %1 file (%2) from %3.',
            'This deletes %1 files (%2) from %3.',
            report.count,
            formatBytes(report.bytes, trans),
            directory
          )
        ]
      : [trans.__('No cache file in %1 matches; nothing is deleted.', directory)];
  if (report.kept_in_use > 0) {
    lines.push(
      trans._n(
        '%1 file in use is kept.',
        '%1 files in use are kept.',
        report.kept_in_use
      )
    );
  }
  return lines;
}

export interface ICleanConfirmationProps {
  report: ICleanReport;
  directory: string;
  trans: TranslationBundle;
}

/**
 * Body of the second dialog: what the clean will delete.
 */
export function CleanConfirmation({
  report,
  directory,
  trans
}: ICleanConfirmationProps): JSX.Element {
  return (
    <div
      className="jp-ExecutorlabCache-cleanConfirmation"
      data-testid="executorlab-cache-clean-confirmation"
    >
      {cleanPlanLines(report, directory, trans).map((line, i) => (
        <p key={i}>{line}</p>
      ))}
    </div>
  );
}

export interface ICleanCacheFlowOptions {
  model: ICacheBrowserModel;
  trans: TranslationBundle;
  /**
   * Show what will be deleted and ask before deleting (the second dialog);
   * true by default. The first dialog, choosing what to clean, is always shown.
   */
  confirm?: boolean;
  /** The choice the first dialog starts with. */
  initial?: ICleanChoice;
  /** JupyterLab's `showDialog` by default. */
  showDialog?: typeof showDialog;
}

/**
 * Clean cache…: choose the mode → (dry run, then "This deletes N files…", Cancel /
 * Delete) → clean. Resolves with what was deleted, or null when cancelled, when
 * nothing matched, or when a request failed (`model.error` then says why).
 */
export async function runCleanCacheFlow(
  options: ICleanCacheFlowOptions
): Promise<ICleanReport | null> {
  const { model, trans } = options;
  const confirm = options.confirm ?? true;
  const dialog = options.showDialog ?? showDialog;

  let choice: ICleanChoice = { ...(options.initial ?? DEFAULT_CLEAN_CHOICE) };
  let invalidDays = false;
  for (;;) {
    const result = await dialog<ICleanChoice>({
      title: trans.__('Clean Cache'),
      body: new CleanModeBody({ choice, invalidDays, trans }),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        confirm
          ? Dialog.okButton({ label: trans.__('Continue') })
          : Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    choice = result.value;
    if (choice.mode !== 'older' || isValidDays(choice.days)) {
      break;
    }
    invalidDays = true;
  }
  const days = choice.mode === 'older' ? choice.days : undefined;

  if (confirm) {
    const plan = await model.planClean(choice.mode, days);
    if (!plan) {
      return null;
    }
    const directory = model.listing?.directory || model.directory;
    const body = (
      <CleanConfirmation report={plan} directory={directory} trans={trans} />
    );
    if (plan.count === 0) {
      await dialog({
        title: trans.__('Nothing to Clean'),
        body,
        buttons: [Dialog.okButton({ label: trans.__('OK') })]
      });
      return null;
    }
    const answer = await dialog({
      title: trans.__('Delete Cache Files?'),
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ],
      // Enter must not delete: Cancel is the default.
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return null;
    }
  }
  return model.clean(choice.mode, days);
}
