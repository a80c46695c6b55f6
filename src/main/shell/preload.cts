/**
 * Preload (sandboxed, CommonJS): exposes only `window.connecteur = { invoke, on }`.
 *
 * A sandboxed preload can require nothing but `electron`, so this file holds no schema: inputs are
 * validated in the main process (src/main/ipc/router.ts), outputs and events again in the renderer
 * (src/renderer/api.ts), both from the one contract in src/shared/contract.ts.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { RawConnecteurApi } from '../../shared/contract.js';

const IPC_INVOKE = 'connecteur:invoke';
const IPC_EVENT = 'connecteur:event';

const api: RawConnecteurApi = {
  invoke(channel: string, input?: unknown): Promise<unknown> {
    if (typeof channel !== 'string') return Promise.reject(new TypeError('channel'));
    return ipcRenderer.invoke(IPC_INVOKE, channel, input);
  },
  on(event: string, listener: (payload: unknown) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('connecteur', api);
