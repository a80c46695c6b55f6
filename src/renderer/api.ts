/**
 * Typed client of the IPC contract for the React pages.
 *
 *   const api = connect();
 *   const r = await api.invoke('sync.run', { flow: 'all' });
 *   if (r.ok) … r.value.runId … else show(r.error.message);
 *   const off = api.on('sync:progress', (p) => …);
 *
 * In Electron it wraps the preload's `window.connecteur`; in an ordinary browser (development and
 * end-to-end tests) it talks to the web bridge over HTTP (POST /api/invoke/<channel>) and
 * Server-Sent Events (GET /api/events), authenticated by the cookie the bridge set.
 * Outputs and events are validated against the contract here too.
 */
import {
  contract,
  events,
  isChannelName,
  type ChannelName,
  type ConnecteurApi,
  type EventName,
  type RawConnecteurApi,
  type Result,
} from '../shared/contract.js';
import { serializedErrorSchema } from '../shared/errors.js';

const UNEXPECTED = {
  code: 'INTERNAL' as const,
  message: 'Réponse inattendue du connecteur. Rechargez la page ; si cela persiste, consultez le journal technique.',
};
const UNREACHABLE = {
  code: 'INTERNAL' as const,
  message: 'Le connecteur ne répond pas. Vérifiez qu’il est lancé puis rechargez la page.',
};

export function createClient(raw: RawConnecteurApi): ConnecteurApi {
  return {
    async invoke(channel, ...args) {
      const input = args[0];
      if (!isChannelName(channel)) return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Action inconnue.' } };
      let reply: unknown;
      try {
        reply = await raw.invoke(channel, input);
      } catch {
        return { ok: false, error: UNREACHABLE };
      }
      return checkReply(channel, reply) as never;
    },
    on(event, listener) {
      return raw.on(event, (payload) => {
        const parsed = events[event].safeParse(payload);
        if (parsed.success) listener(parsed.data as never);
      });
    },
  };
}

function checkReply(channel: ChannelName, reply: unknown): Result<unknown> {
  if (typeof reply !== 'object' || reply === null || !('ok' in reply)) return { ok: false, error: UNEXPECTED };
  if (reply.ok === true && 'value' in reply) {
    const out = contract[channel].output.safeParse(reply.value);
    return out.success ? { ok: true, value: out.data } : { ok: false, error: UNEXPECTED };
  }
  const err = serializedErrorSchema.safeParse((reply as { error?: unknown }).error);
  return { ok: false, error: err.success ? err.data : UNEXPECTED };
}

/** Transport over the development web bridge (same origin; the token travels in an HttpOnly cookie). */
export function bridgeTransport(baseUrl = '', fetchImpl: typeof fetch = fetch.bind(globalThis)): RawConnecteurApi {
  let source: EventSource | null = null;
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  function ensureSource() {
    if (source || typeof EventSource === 'undefined') return;
    source = new EventSource(`${baseUrl}/api/events`, { withCredentials: true });
    for (const name of Object.keys(events) as EventName[]) {
      source.addEventListener(name, (e) => {
        let payload: unknown;
        try {
          payload = JSON.parse((e as MessageEvent<string>).data);
        } catch {
          return;
        }
        listeners.get(name)?.forEach((l) => l(payload));
      });
    }
  }
  return {
    async invoke(channel, input) {
      const res = await fetchImpl(`${baseUrl}/api/invoke/${encodeURIComponent(channel)}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input === undefined ? null : input),
      });
      return res.json();
    },
    on(event, listener) {
      ensureSource();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
}

declare global {
  interface Window {
    connecteur?: RawConnecteurApi;
  }
}

/** The client for this page: the preload API inside Electron, the web bridge otherwise. */
export function connect(): ConnecteurApi {
  const preload = typeof window !== 'undefined' ? window.connecteur : undefined;
  return createClient(preload ?? bridgeTransport());
}
