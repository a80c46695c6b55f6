/**
 * Main-side IPC router: validates every input against the contract, calls the handler, turns any
 * thrown error into `{ code, message }` (French, never raw exception text) and validates the output.
 *
 * No Electron here: the Electron binding (src/main/shell/ipc.ts), the web bridge and the tests all
 * call `router.invoke(channel, input, context)`.
 */
import { z } from 'zod';
import {
  type ChannelHandlerOutput,
  type ChannelName,
  type ChannelParsedInput,
  type Contract,
  type Result,
} from '../../shared/contract.js';
import { AppError, toAppError } from '../../shared/errors.js';
import type { Logger } from '../services/ports.js';

/** Who is calling; handlers may use it (e.g. journal trigger) but never trust it for security. */
export interface CallContext {
  /** 'cli' and 'demo': the headless entry points calling the handler map in process. */
  host: 'electron' | 'bridge' | 'cli' | 'demo' | 'test';
}

export type Handler<K extends ChannelName> = (
  input: ChannelParsedInput<K>,
  ctx: CallContext,
) => Promise<ChannelHandlerOutput<K>> | ChannelHandlerOutput<K>;

export type Handlers = { [K in ChannelName]: Handler<K> };

export interface IpcRouter {
  readonly channels: readonly string[];
  invoke(channel: string, input: unknown, ctx?: CallContext): Promise<Result<unknown>>;
}

const frenchErrors = { error: z.locales.fr().localeError };

function describeIssues(error: z.ZodError): string {
  const first = error.issues.slice(0, 3).map((i) => {
    const where = i.path.length ? `« ${i.path.join('.')} » : ` : '';
    return `${where}${i.message}`;
  });
  return first.join(' ; ');
}

/**
 * Checked after the input is validated and before the handler runs (the protection on a shared PC refuses
 * the protected channels while locked): throwing refuses the call with the error's French message.
 */
export type CallGuard = (channel: ChannelName, input: unknown, ctx: CallContext) => void | Promise<void>;

export function createIpcRouter(
  contract: Contract,
  handlers: Partial<Handlers>,
  opts: { logger: Logger; guard?: CallGuard },
): IpcRouter {
  const log = opts.logger.child({ component: 'ipc' });
  const table = handlers as Record<string, ((input: unknown, ctx: CallContext) => unknown) | undefined>;
  const defs = contract as Record<string, { input: z.ZodType; output: z.ZodType } | undefined>;

  async function invoke(channel: string, input: unknown, ctx: CallContext = { host: 'test' }): Promise<Result<unknown>> {
    const def = Object.prototype.hasOwnProperty.call(defs, channel) ? defs[channel] : undefined;
    const handler = Object.prototype.hasOwnProperty.call(table, channel) ? table[channel] : undefined;
    if (!def || !handler) {
      log.warn('ipc: unknown channel', { channel: String(channel).slice(0, 80) });
      return {
        ok: false,
        error: { code: 'UNKNOWN_CHANNEL', message: "Cette action n'existe pas dans cette version du connecteur. Mettez l'application à jour." },
      };
    }
    const parsed = def.input.safeParse(input, frenchErrors);
    if (!parsed.success) {
      log.info('ipc: invalid input', { channel, issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code })) });
      return {
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          message: `Données invalides — ${describeIssues(parsed.error)}. Corrigez la saisie puis réessayez.`,
        },
      };
    }
    let raw: unknown;
    try {
      await opts.guard?.(channel as ChannelName, parsed.data, ctx);
      raw = await handler(parsed.data, ctx);
    } catch (e) {
      const err = toAppError(e);
      const fields = { channel, code: err.code, detail: err.detail, retryable: err.retryable };
      if (err.code === 'INTERNAL') log.error('ipc: handler failed', { ...fields, stack: e instanceof Error ? e.stack : undefined });
      else log.warn('ipc: handler refused', fields);
      return { ok: false, error: err.toJSON() };
    }
    const out = def.output.safeParse(raw);
    if (!out.success) {
      const err = new AppError('INTERNAL', "Le connecteur a produit une réponse inattendue. Consultez le journal technique et contactez l'assistance.", {
        detail: `output of ${channel} invalid: ${out.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      });
      log.error('ipc: invalid output', { channel, detail: err.detail });
      return { ok: false, error: err.toJSON() };
    }
    return { ok: true, value: out.data };
  }

  return { channels: Object.keys(defs), invoke };
}
