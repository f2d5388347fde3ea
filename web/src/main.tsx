import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { loadConfig } from './config';
import { ConsoleProvider } from './console-context';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');

loadConfig().then(
  (config) =>
    createRoot(root).render(
      <StrictMode>
        <ConsoleProvider config={config}>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </ConsoleProvider>
      </StrictMode>,
    ),
  (error: unknown) => {
    const message = document.createElement('p');
    message.setAttribute('role', 'alert');
    message.textContent = `The console could not load its configuration: ${error instanceof Error ? error.message : String(error)}`;
    root.replaceChildren(message);
  },
);
