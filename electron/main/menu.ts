/** The application menu, as a pure template (tested without Electron). */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  appName: string;
  isMac: boolean;
  onAbout(): void;
}

export function buildMenuTemplate(opts: MenuOptions): MenuItemConstructorOptions[] {
  const about: MenuItemConstructorOptions = { label: `About ${opts.appName}`, click: () => opts.onAbout() };
  const template: MenuItemConstructorOptions[] = [];
  if (opts.isMac) {
    template.push({ label: opts.appName, submenu: [about, { type: 'separator' }, { role: 'quit', label: `Quit ${opts.appName}` }] });
  }
  template.push(
    { label: 'File', submenu: [{ role: 'quit', label: 'Quit' }] },
    // Edit roles keep copy/paste working in text fields on every platform.
    {
      label: 'Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload', label: 'Reload' },
        { role: 'toggleDevTools', label: 'Toggle Developer Tools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
      ],
    },
    { label: 'Help', submenu: [about] },
  );
  return template;
}
