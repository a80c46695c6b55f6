/**
 * The HTTP dispatcher of every outgoing client (exports API, BatiSimply, licence service), from the one proxy setting
 * (settings.proxy): a plain keep-alive Agent, or undici's EnvHttpProxyAgent — the system's proxy (HTTP_PROXY,
 * HTTPS_PROXY, NO_PROXY) or the one of the settings with its credentials (Proxy-Authorization: Basic) and its bypass
 * list. The proxy password is a secret: it only travels to the proxy, never logged.
 */
import { Agent, EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import type { ProxySettings } from '../../../shared/settings.js';

export interface DispatcherOptions {
  timeoutMs: number;
  connections?: number;
}

/** The proxy URL with its credentials (user and password percent-encoded), or null when there is none to use. */
export function proxyUri(p: ProxySettings): string | null {
  if (p.mode !== 'manual' || p.url.trim() === '') return null;
  const u = new URL(p.url.trim());
  if (p.username) {
    u.username = encodeURIComponent(p.username);
    u.password = encodeURIComponent(p.password);
  }
  return u.href;
}

/** The bypass list as NO_PROXY understands it (commas, no spaces). */
export const noProxyOf = (bypass: string): string =>
  bypass
    .split(/[,;\s]+/)
    .map((h) => h.trim())
    .filter(Boolean)
    .join(',');

export function createHttpDispatcher(p: ProxySettings | undefined, o: DispatcherOptions): Dispatcher {
  const options = {
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    ...(o.connections ? { connections: o.connections } : {}),
    connect: { timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  };
  if (!p || p.mode === 'none') return new Agent(options);
  if (p.mode === 'system') return new EnvHttpProxyAgent(options);
  const uri = proxyUri(p);
  if (!uri) return new Agent(options);
  return new EnvHttpProxyAgent({ ...options, httpProxy: uri, httpsProxy: uri, noProxy: noProxyOf(p.bypass) });
}

/**
 * A fetch that goes through the proxy of the current settings (the licence client): the dispatcher is rebuilt when
 * the proxy setting changes.
 */
export function proxiedFetch(current: () => ProxySettings, o: DispatcherOptions): typeof globalThis.fetch {
  let key = '';
  let dispatcher: Dispatcher | null = null;
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => {
    const p = current();
    const k = JSON.stringify(p);
    if (!dispatcher || k !== key) {
      void dispatcher?.close().catch(() => undefined);
      dispatcher = createHttpDispatcher(p, o);
      key = k;
    }
    return undiciFetch(input, { ...init, dispatcher });
  }) as unknown as typeof globalThis.fetch;
}
