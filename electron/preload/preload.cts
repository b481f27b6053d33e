// Sandboxed preload (CommonJS: sandboxed preloads cannot be ES modules). It may require nothing
// but 'electron', so the two channel names are inlined; preload.test.ts checks they equal
// IPC_INVOKE_CHANNEL and IPC_EVENT_CHANNEL in core/src/contract/client.ts.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { PreloadBridge } from '../../core/src/contract/client.js';

const INVOKE_CHANNEL = 'switchyard:invoke';
const EVENT_CHANNEL = 'switchyard:event';

const bridge: PreloadBridge = {
  invoke: (method, input) => ipcRenderer.invoke(INVOKE_CHANNEL, method, input),
  subscribe(event, handler) {
    // The IpcRendererEvent (which holds `sender`) never reaches the page: only the payload does.
    const listener = (_e: IpcRendererEvent, msg: { event?: unknown; payload?: unknown } | null) => {
      if (msg !== null && typeof msg === 'object' && msg.event === event) handler(msg.payload);
    };
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, listener);
  },
};

contextBridge.exposeInMainWorld('switchyard', bridge);
