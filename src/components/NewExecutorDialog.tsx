import {
  Clipboard,
  Dialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IExecutorPanelActions } from '../executors/actions';
import {
  availableBackends,
  backendOptionLabel,
  connectSnippet,
  emptyExecutorForm,
  ExecutorBackend,
  INewExecutorForm,
  MAX_COUNT,
  NewExecutorErrors,
  NewExecutorField,
  validateExecutorForm
} from '../executors/model';
import { IExecutorView, Placement } from '../tokens';

/**
 * Native constraints matching `validateExecutorForm`, so JupyterLab's dialog greys
 * out its OK button while a field is invalid (it checks `:invalid` on input).
 * Written to be valid with the `v` flag browsers compile `pattern` with.
 */
const NAME_PATTERN_ATTR = '[A-Za-z0-9 _.\\-]{1,64}';
const ABSOLUTE_PATH_PATTERN_ATTR = '/.*';

export interface INewExecutorFormProps {
  form: INewExecutorForm;
  onChange: (form: INewExecutorForm, field: keyof INewExecutorForm) => void;
  backends: readonly ExecutorBackend[];
  /** Reasons to show under their fields (only the fields already touched, say). */
  errors: NewExecutorErrors;
  trans: TranslationBundle;
}

/**
 * The New executor form: name, where calls run, max cores, block allocation with
 * max workers, cache directory.
 */
export function NewExecutorForm({
  form,
  onChange,
  backends,
  errors,
  trans
}: INewExecutorFormProps): JSX.Element {
  const id = React.useId();
  const set = <K extends keyof INewExecutorForm>(
    key: K,
    value: INewExecutorForm[K]
  ) => onChange({ ...form, [key]: value }, key);
  const fieldId = (field: string) => `${id}-${field}`;
  const described = (field: NewExecutorField) =>
    errors[field] ? fieldId(`${field}-error`) : undefined;
  const reason = (field: NewExecutorField) =>
    errors[field] ? (
      <div
        id={fieldId(`${field}-error`)}
        className="jp-executorlab-NewExecutor-error"
        data-testid={`executorlab-new-executor-${field}-error`}
        role="alert"
      >
        {errors[field]}
      </div>
    ) : null;

  return (
    <div className="jp-executorlab-NewExecutor-form">
      <label className="jp-executorlab-NewExecutor-field" htmlFor={fieldId('name')}>
        <span className="jp-executorlab-NewExecutor-label">{trans.__('Name')}</span>
        <input
          id={fieldId('name')}
          type="text"
          className="jp-mod-styled"
          data-testid="executorlab-new-executor-name"
          required
          maxLength={64}
          pattern={NAME_PATTERN_ATTR}
          placeholder={trans.__('e.g. gpu-pool')}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={described('name')}
          value={form.name}
          onChange={event => set('name', event.currentTarget.value)}
        />
      </label>
      {reason('name')}

      <label
        className="jp-executorlab-NewExecutor-field"
        htmlFor={fieldId('backend')}
      >
        <span className="jp-executorlab-NewExecutor-label">
          {trans.__('Where calls run')}
        </span>
        <select
          id={fieldId('backend')}
          className="jp-mod-styled"
          data-testid="executorlab-new-executor-backend"
          value={form.backend}
          onChange={event =>
            set('backend', event.currentTarget.value as ExecutorBackend)
          }
        >
          {backends.map(backend => (
            <option key={backend} value={backend}>
              {backendOptionLabel(backend, trans)}
            </option>
          ))}
        </select>
      </label>

      <label
        className="jp-executorlab-NewExecutor-field"
        htmlFor={fieldId('max-cores')}
      >
        <span className="jp-executorlab-NewExecutor-label">
          {trans.__('Max cores')}
        </span>
        <input
          id={fieldId('max-cores')}
          type="number"
          min={1}
          max={MAX_COUNT}
          step={1}
          className="jp-mod-styled"
          data-testid="executorlab-new-executor-max-cores"
          placeholder={trans.__('no limit')}
          aria-invalid={errors.maxCores ? true : undefined}
          aria-describedby={described('maxCores')}
          value={form.maxCores}
          onChange={event => set('maxCores', event.currentTarget.value)}
        />
      </label>
      {reason('maxCores')}

      <label className="jp-executorlab-NewExecutor-check">
        <input
          type="checkbox"
          data-testid="executorlab-new-executor-block-allocation"
          checked={form.blockAllocation}
          onChange={event => set('blockAllocation', event.currentTarget.checked)}
        />
        {trans.__('Block allocation: keep workers running between calls')}
      </label>
      <label
        className="jp-executorlab-NewExecutor-field jp-executorlab-NewExecutor-indented"
        htmlFor={fieldId('max-workers')}
        data-disabled={!form.blockAllocation}
      >
        <span className="jp-executorlab-NewExecutor-label">
          {trans.__('Max workers')}
        </span>
        <input
          id={fieldId('max-workers')}
          type="number"
          min={1}
          max={MAX_COUNT}
          step={1}
          className="jp-mod-styled"
          data-testid="executorlab-new-executor-max-workers"
          placeholder={trans.__('as many as fit')}
          disabled={!form.blockAllocation}
          aria-invalid={errors.maxWorkers ? true : undefined}
          aria-describedby={described('maxWorkers')}
          value={form.maxWorkers}
          onChange={event => set('maxWorkers', event.currentTarget.value)}
        />
      </label>
      {form.blockAllocation && reason('maxWorkers')}

      <label
        className="jp-executorlab-NewExecutor-field"
        htmlFor={fieldId('cache-directory')}
      >
        <span className="jp-executorlab-NewExecutor-label">
          {trans.__('Cache directory')}
        </span>
        <input
          id={fieldId('cache-directory')}
          type="text"
          className="jp-mod-styled"
          data-testid="executorlab-new-executor-cache-directory"
          pattern={ABSOLUTE_PATH_PATTERN_ATTR}
          placeholder={trans.__('optional, an absolute path')}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors.cacheDirectory ? true : undefined}
          aria-describedby={described('cacheDirectory')}
          value={form.cacheDirectory}
          onChange={event => set('cacheDirectory', event.currentTarget.value)}
        />
      </label>
      {reason('cacheDirectory')}
      <div className="jp-executorlab-NewExecutor-note">
        {trans.__(
          'Calls are cached by their arguments in the cache directory; without one nothing is cached.'
        )}
      </div>
    </div>
  );
}

/**
 * The dialog's body as a widget whose `getValue()` is the form as typed.
 */
export class NewExecutorBody
  extends ReactWidget
  implements Dialog.IBodyWidget<INewExecutorForm>
{
  constructor(options: NewExecutorBody.IOptions) {
    super();
    this._form = { ...options.form };
    this._backends = options.backends;
    this._showAll = options.showAllErrors ?? false;
    this._trans = options.trans;
    this.addClass('jp-executorlab-NewExecutor');
  }

  getValue(): INewExecutorForm {
    return { ...this._form };
  }

  protected render(): JSX.Element {
    const checked = validateExecutorForm(this._form, this._trans, this._backends);
    const all = checked.errors ?? {};
    const errors: NewExecutorErrors = {};
    for (const field of Object.keys(all) as NewExecutorField[]) {
      if (this._showAll || this._touched.has(field)) {
        errors[field] = all[field];
      }
    }
    return (
      <NewExecutorForm
        form={this._form}
        backends={this._backends}
        errors={errors}
        onChange={(form, field) => {
          this._form = form;
          this._touched.add(field as NewExecutorField);
          this.update();
        }}
        trans={this._trans}
      />
    );
  }

  private _form: INewExecutorForm;
  private _backends: readonly ExecutorBackend[];
  private _showAll: boolean;
  private _touched = new Set<NewExecutorField>();
  private _trans: TranslationBundle;
}

export namespace NewExecutorBody {
  export interface IOptions {
    form: INewExecutorForm;
    backends: readonly ExecutorBackend[];
    /** Show every reason at once (after OK with an invalid form), not only touched fields'. */
    showAllErrors?: boolean;
    trans: TranslationBundle;
  }
}

export interface IConnectHintProps {
  name: string;
  trans: TranslationBundle;
  /** `Clipboard.copyToSystem` by default. */
  copy?: (text: string) => void;
}

/**
 * "In a notebook: exe = executorlab.connect("<name>")" with a Copy button.
 */
export function ConnectHint({ name, trans, copy }: IConnectHintProps): JSX.Element {
  const snippet = connectSnippet(name);
  const [copied, setCopied] = React.useState(false);
  return (
    <div className="jp-executorlab-ConnectHint" data-testid="executorlab-new-executor-hint">
      <p>{trans.__('In a notebook:')}</p>
      <div className="jp-executorlab-ConnectHint-line">
        <code
          className="jp-executorlab-ConnectHint-code"
          data-testid="executorlab-new-executor-connect"
        >
          {snippet}
        </code>
        <button
          type="button"
          className="jp-executorlab-ExecutorList-button jp-executorlab-ConnectHint-copy"
          data-action="copy-connect"
          title={trans.__('Copy to the clipboard')}
          onClick={() => {
            try {
              (copy ?? Clipboard.copyToSystem)(snippet);
              setCopied(true);
            } catch {
              // No clipboard here: the line is selectable.
            }
          }}
        >
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </button>
      </div>
      <p className="jp-executorlab-ConnectHint-note">
        {trans.__('after "import executorlab"; its calls then appear in this panel.')}
      </p>
    </div>
  );
}

export interface INewExecutorFlowOptions {
  actions: IExecutorPanelActions;
  /** Where the bridge runs: which backends it offers. */
  placement: Placement | null | undefined;
  trans: TranslationBundle;
  /** The form the dialog starts with; empty by default. */
  initial?: INewExecutorForm;
  /** JupyterLab's `showDialog` by default. */
  showDialog?: typeof showDialog;
  /** JupyterLab's `showErrorMessage` by default. */
  showErrorMessage?: typeof showErrorMessage;
}

/**
 * New executor…: the form (shown again with its reasons while invalid) → `create` →
 * how to use it from a notebook, or the bridge's refusal. Resolves with the new
 * executor, or null when cancelled or refused.
 */
export async function runNewExecutorFlow(
  options: INewExecutorFlowOptions
): Promise<IExecutorView | null> {
  const { actions, trans } = options;
  const dialog = options.showDialog ?? showDialog;
  const errorDialog = options.showErrorMessage ?? showErrorMessage;
  const backends = availableBackends(options.placement);

  let form: INewExecutorForm = {
    ...(options.initial ?? emptyExecutorForm(options.placement))
  };
  let showAllErrors = false;
  for (;;) {
    const result = await dialog<INewExecutorForm>({
      title: trans.__('New Executor'),
      body: new NewExecutorBody({ form, backends, showAllErrors, trans }),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Create') })
      ],
      focusNodeSelector: '[data-testid="executorlab-new-executor-name"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    form = result.value;
    const checked = validateExecutorForm(form, trans, backends);
    if (checked.spec === null) {
      showAllErrors = true;
      continue;
    }
    const created = await actions.create(checked.spec);
    if (created.executor === null) {
      await errorDialog(trans.__('Executor Not Created'), created.error, [
        Dialog.okButton({ label: trans.__('Close') })
      ]);
      return null;
    }
    const name = created.executor.name || checked.spec.name;
    await dialog({
      title: trans.__('Executor %1 Started', name),
      body: <ConnectHint name={name} trans={trans} />,
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
    return created.executor;
  }
}
