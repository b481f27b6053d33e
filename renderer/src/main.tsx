import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createTransport } from './api/transport';
import { httpTraceUploader } from './api/upload';
import { createStores, startStores, StoresProvider } from './stores/context';
import './styles.css';

const transport = createTransport();
// The desktop window (IPC) has the native open dialog; a browser uploads.
const stores = createStores(transport.client, transport.connection, transport.serverLabel, httpTraceUploader(), { nativeOpen: transport.kind === 'ipc' });
startStores(stores);

const rootElement = document.getElementById('root');
if (rootElement === null) throw new Error('index.html has no #root element');

createRoot(rootElement).render(
  <StrictMode>
    <StoresProvider stores={stores}>
      <App />
    </StoresProvider>
  </StrictMode>,
);
