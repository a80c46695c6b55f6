/**
 * Who may call the IPC handlers: only the app's own window, showing the app's own page.
 * A plain function (no Electron import) so that it is unit-tested without Electron.
 */
import { AppError } from '../../shared/errors.js';

export interface SenderInfo {
  /** webContents.id of the sender. */
  webContentsId: number;
  /** URL of event.senderFrame (null when the frame is gone). */
  frameUrl: string | null;
  /** True when the sending frame is the top frame of its webContents (not an iframe). */
  isMainFrame: boolean;
}

export interface SenderPolicy {
  /** webContents.id of the app's window (null before the window exists: everything is refused). */
  allowedWebContentsId: number | null;
  /** URL prefix of the app's own page: the packaged renderer folder as a file:// URL, or the dev server origin. */
  allowedUrlPrefixes: readonly string[];
}

export function isAllowedSender(sender: SenderInfo, policy: SenderPolicy): boolean {
  if (policy.allowedWebContentsId === null || sender.webContentsId !== policy.allowedWebContentsId) return false;
  if (!sender.isMainFrame || !sender.frameUrl) return false;
  let url: URL;
  try {
    url = new URL(sender.frameUrl);
  } catch {
    return false;
  }
  // protocol + host + normalised path (works for http:, file: and custom schemes such as app://connecteur/)
  const normalised = `${url.protocol}//${url.host}${url.pathname}`;
  return policy.allowedUrlPrefixes.some((prefix) => prefix.length > 0 && normalised.startsWith(prefix));
}

export function forbiddenSender(): AppError {
  return new AppError('FORBIDDEN_SENDER', "Appel refusé : il ne provient pas de la fenêtre du connecteur.");
}
