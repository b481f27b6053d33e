/**
 * The desktop's native folder dialog behind `registry.chooseExportFolder` (issue 13): the person
 * at the desktop picks an export folder with the system's own dialog, and that folder (only it)
 * becomes one the window may register from. Electron is referenced structurally, so the wiring is
 * tested with a fake dialog (the Electron binary cannot run here).
 */
import { pickedPath, type OpenDialogAnswer } from './picked-path.js';

/** The slice of Electron's `dialog` used here. */
export interface FolderDialogLike {
  showOpenDialog(
    window: unknown,
    options: { title: string; buttonLabel: string; properties: ('openDirectory' | 'dontAddToRecent')[] },
  ): Promise<OpenDialogAnswer>;
}

/** The slice of the engine that takes a folder chooser. */
export interface FolderChooserHost {
  registration: { setFolderChooser(chooser: (() => Promise<string | null>) | null): void };
}

/** A chooser that opens the dialog over `getWindow()` (when there is one) and resolves with the folder picked, or null. */
export function folderChooser(dialog: FolderDialogLike, getWindow: () => unknown): () => Promise<string | null> {
  return async () => {
    const options = { title: 'Register an export', buttonLabel: 'Choose export folder', properties: ['openDirectory' as const, 'dontAddToRecent' as const] };
    const win = getWindow();
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(undefined, options);
    return pickedPath(r);
  };
}

/** Installs the dialog on the engine; returns what removes it (on quit). */
export function installFolderDialog(engine: FolderChooserHost, dialog: FolderDialogLike, getWindow: () => unknown): () => void {
  engine.registration.setFolderChooser(folderChooser(dialog, getWindow));
  return () => engine.registration.setFolderChooser(null);
}
