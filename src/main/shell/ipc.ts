/**
 * Electron binding of the IPC router: one `invoke` channel and one `event` channel.
 * Every call is checked with `isAllowedSender` (the app's own window, its own page, top frame);
 * anything else gets FORBIDDEN_SENDER and the handler is never called.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { EventName, EventPayload, Result } from '../../shared/contract.js';
import { events as eventSchemas } from '../../shared/contract.js';
import type { IpcRouter } from '../ipc/router.js';
import { forbiddenSender, isAllowedSender, type SenderPolicy } from '../ipc/sender.js';
import type { Logger } from '../services/ports.js';

export const IPC_INVOKE = 'connecteur:invoke';
export const IPC_EVENT = 'connecteur:event';

export interface IpcBinding {
  /** Sends a push event to the app window (validated against the contract first). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  dispose(): void;
}

export function bindIpc(opts: {
  router: IpcRouter;
  logger: Logger;
  policy: () => SenderPolicy;
  target: () => WebContents | null;
}): IpcBinding {
  const log = opts.logger.child({ component: 'shell-ipc' });
  ipcMain.handle(IPC_INVOKE, async (event: IpcMainInvokeEvent, channel: unknown, input: unknown): Promise<Result<unknown>> => {
    const frame = event.senderFrame;
    const allowed = isAllowedSender(
      {
        webContentsId: event.sender.id,
        frameUrl: frame ? frame.url : null,
        isMainFrame: frame !== null && frame === event.sender.mainFrame,
      },
      opts.policy(),
    );
    if (!allowed) {
      log.warn('ipc: call from a foreign sender refused', { url: frame?.url ?? null, webContentsId: event.sender.id });
      return { ok: false, error: forbiddenSender().toJSON() };
    }
    if (typeof channel !== 'string') return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Action inconnue.' } };
    return opts.router.invoke(channel, input, { host: 'electron' });
  });

  return {
    emit(event, payload) {
      const parsed = eventSchemas[event].safeParse(payload);
      if (!parsed.success) {
        log.error('ipc: invalid event payload not sent', { event });
        return;
      }
      const wc = opts.target();
      if (wc && !wc.isDestroyed()) wc.send(IPC_EVENT, event, parsed.data);
    },
    dispose() {
      ipcMain.removeHandler(IPC_INVOKE);
    },
  };
}
