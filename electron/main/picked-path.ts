/** What Electron's `dialog.showOpenDialog` answers. */
export interface OpenDialogAnswer {
  canceled: boolean;
  filePaths: string[];
}

/**
 * The one path the person picked in an open dialog, or null when they cancelled or picked nothing:
 * the same reading for the export folder chooser (folder-dialog.ts) and the trace opener
 * (open-trace-dialog.ts).
 */
export function pickedPath(answer: OpenDialogAnswer): string | null {
  return answer.canceled ? null : (answer.filePaths[0] ?? null);
}
