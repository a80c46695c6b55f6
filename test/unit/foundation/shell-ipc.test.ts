/**
 * The Electron binding, with `electron` replaced by a fake ipcMain (the binary cannot run here):
 * a call from any sender other than the app window is refused with FORBIDDEN_SENDER and never
 * reaches the handler.
 */
import { describe, expect, it, vi } from 'vitest';

type InvokeListener = (event: unknown, channel: unknown, input: unknown) => Promise<unknown>;
const registered = new Map<string, InvokeListener>();
vi.mock('electron', () => ({
  ipcMain: {
    handle: (name: string, fn: InvokeListener) => registered.set(name, fn),
    removeHandler: (name: string) => registered.delete(name),
  },
}));

const { bindIpc, IPC_INVOKE } = await import('../../../src/main/shell/ipc.js');
const { createIpcRouter } = await import('../../../src/main/ipc/router.js');
const { contract } = await import('../../../src/shared/contract.js');
const { memoryLogger } = await import('../../support/foundation/memory-logger.js');

function fakeEvent(id: number, url: string, topFrame = true) {
  const mainFrame = { url };
  const frame = topFrame ? mainFrame : { url };
  return { sender: { id, mainFrame }, senderFrame: frame };
}

describe('Electron IPC binding', () => {
  it('refuses other senders with FORBIDDEN_SENDER and serves the app window', async () => {
    const run = vi.fn(() => ({ runId: 'r42' }));
    const router = createIpcRouter(contract, { 'sync.run': run }, { logger: memoryLogger() });
    const binding = bindIpc({
      router,
      logger: memoryLogger(),
      policy: () => ({ allowedWebContentsId: 1, allowedUrlPrefixes: ['file:///app/dist/renderer/'] }),
      target: () => null,
    });
    const handle = registered.get(IPC_INVOKE);
    expect(handle).toBeDefined();
    if (!handle) return;

    const foreign = await handle(fakeEvent(2, 'file:///app/dist/renderer/index.html'), 'sync.run', { flow: 'all' });
    expect(foreign).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    const remote = await handle(fakeEvent(1, 'https://example.com/'), 'sync.run', { flow: 'all' });
    expect(remote).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    const iframe = await handle(fakeEvent(1, 'file:///app/dist/renderer/index.html', false), 'sync.run', { flow: 'all' });
    expect(iframe).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(run).not.toHaveBeenCalled();

    const own = await handle(fakeEvent(1, 'file:///app/dist/renderer/index.html'), 'sync.run', { flow: 'all' });
    expect(own).toEqual({ ok: true, value: { runId: 'r42' } });
    expect(run).toHaveBeenCalledOnce();
    binding.dispose();
    expect(registered.has(IPC_INVOKE)).toBe(false);
  });
});
