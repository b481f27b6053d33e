import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createTransport } from './api/transport';
import { httpTraceUploader } from './api/upload';
import { createStores, startStores, StoresProvider } from './stores/context';
import './styles.css';

const transport = createTransport();
const stores = createStores(transport.client, transport.connection, transport.serverLabel, httpTraceUploader());
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
