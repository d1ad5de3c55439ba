import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

export interface IMainAreaViewOptions<W extends Widget> {
  command: string;
  label: string;
  caption: string;
  icon?: LabIcon;
  /** The widget tracker's namespace, which the layout restorer keys on. */
  namespace: string;
  /** Make the view; called when the command runs and none is open. */
  create(): W;
  palette: ICommandPalette | null;
  restorer: ILayoutRestorer | null;
  trans: TranslationBundle;
}

/**
 * A view opened in the main area by a command (in the palette; the View menu item is declared in the
 * plugin's schema), one at a time, restored on reload. Returns the open view, if any.
 */
export function addMainAreaView<W extends Widget>(app: JupyterFrontEnd, o: IMainAreaViewOptions<W>): () => W | null {
  let widget: W | null = null;
  const tracker = new WidgetTracker<W>({ namespace: o.namespace });
  app.commands.addCommand(o.command, {
    label: o.label,
    caption: o.caption,
    icon: o.icon,
    execute: () => {
      if (!widget || widget.isDisposed) {
        widget = o.create();
        void tracker.add(widget);
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
    }
  });
  o.palette?.addItem({ command: o.command, category: o.trans.__('Executors') });
  o.restorer?.restore(tracker, { command: o.command, name: () => o.namespace });
  return () => (widget && !widget.isDisposed ? widget : null);
}
