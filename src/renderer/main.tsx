/** Renderer entry: connects to the main process (preload or web bridge) and mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api.js';
import { App } from './app.js';
import { ApiProvider } from './lib/backend.js';
import { ToastProvider } from './components/toast.js';
import './styles.css';

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <StrictMode>
      <ApiProvider api={connect()}>
        <ToastProvider>
          <App />
        </ToastProvider>
      </ApiProvider>
    </StrictMode>,
  );
}
