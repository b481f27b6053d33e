import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from './menu.js';

function submenu(t: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions[] {
  const top = t.find((m) => m.label === label);
  expect(top, `menu ${label}`).toBeDefined();
  return top!.submenu as MenuItemConstructorOptions[];
}

describe('application menu', () => {
  it('has File > Quit, View > Reload / Toggle DevTools, Help > About', () => {
    const onAbout = vi.fn();
    const t = buildMenuTemplate({ appName: 'Switchyard', isMac: false, onAbout });
    expect(t.map((m) => m.label)).toEqual(['File', 'Edit', 'View', 'Help']);
    expect(submenu(t, 'File').map((i) => i.role)).toContain('quit');
    const view = submenu(t, 'View').map((i) => i.role);
    expect(view).toContain('reload');
    expect(view).toContain('toggleDevTools');
    const about = submenu(t, 'Help').find((i) => i.label === 'About Switchyard');
    expect(about).toBeDefined();
    (about!.click as () => void)();
    expect(onAbout).toHaveBeenCalledOnce();
  });

  it('adds the app menu first on macOS', () => {
    const t = buildMenuTemplate({ appName: 'Switchyard', isMac: true, onAbout: () => undefined });
    expect(t[0]?.label).toBe('Switchyard');
  });
});
