/**
 * React glue over the typed contract client: a context holding the API, `call` that unwraps a Result
 * into a value or a CallError (French message), and hooks for queries and push events.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type {
  ChannelName,
  ChannelOutput,
  ConnecteurApi,
  EventName,
  EventPayload,
  InvokeArgs,
} from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';

/** A failed call: `code` from ERROR_CODES, `message` in French (what happened, what to do). */
export class CallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CallError';
    this.code = code;
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof CallError) return e.message;
  return fr.common.unexpected;
}

const ApiContext = createContext<ConnecteurApi | null>(null);

export function ApiProvider({ api, children }: { api: ConnecteurApi; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export type Caller = <K extends ChannelName>(channel: K, ...args: InvokeArgs<K>) => Promise<ChannelOutput<K>>;

/** A stable `call(channel, input)` that resolves to the value or throws a CallError. */
export function useCall(): Caller {
  const api = useContext(ApiContext);
  return useCallback(
    async <K extends ChannelName>(channel: K, ...args: InvokeArgs<K>): Promise<ChannelOutput<K>> => {
      if (!api) throw new CallError('INTERNAL', fr.common.noApi);
      let res;
      try {
        res = await api.invoke(channel, ...args);
      } catch {
        throw new CallError('INTERNAL', fr.common.noApi);
      }
      if (res.ok) return res.value;
      throw new CallError(res.error.code, res.error.message);
    },
    [api],
  ) as Caller;
}

/** Subscribes to a push event for the component's lifetime. The listener may change between renders. */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const api = useContext(ApiContext);
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(() => {
    if (!api) return undefined;
    return api.on(event, (p) => ref.current(p));
  }, [api, event]);
}

export interface Query<T> {
  data: T | null;
  error: CallError | null;
  loading: boolean;
  reload: () => void;
  setData: (v: T) => void;
}

/** Runs `fn` on mount and whenever `key` changes; keeps the last data while reloading. */
export function useQuery<T>(fn: (call: Caller) => Promise<T>, key: string = ''): Query<T> {
  const call = useCall();
  const [tick, setTick] = useState(0);
  const reqKey = `${key}#${tick}`;
  const [state, setState] = useState<{ reqKey: string | null; data: T | null; error: CallError | null }>({
    reqKey: null,
    data: null,
    error: null,
  });
  const fnRef = useRef(fn);
  useEffect(() => {
    fnRef.current = fn;
  });
  useEffect(() => {
    let alive = true;
    fnRef
      .current(call)
      .then((v) => {
        if (alive) setState({ reqKey, data: v, error: null });
      })
      .catch((e: unknown) => {
        if (!alive) return;
        const error = e instanceof CallError ? e : new CallError('INTERNAL', fr.common.unexpected);
        setState((s) => ({ reqKey, data: s.data, error }));
      });
    return () => {
      alive = false;
    };
  }, [call, reqKey]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((v: T) => setState((s) => ({ reqKey: s.reqKey, data: v, error: null })), []);
  return { data: state.data, error: state.error, loading: state.reqKey !== reqKey, reload, setData };
}
