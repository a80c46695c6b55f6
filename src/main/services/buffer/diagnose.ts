/**
 * "Tester la connexion" for the buffer database: opens it the way the sync will (embedded PGlite
 * folder or remote PostgreSQL), checks that migrations can be applied, and answers in French.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionDiagnosis } from '../../../shared/domain.js';
import { AppError } from '../../../shared/errors.js';
import type { BufferSettings } from '../../../shared/settings.js';
import { openBuffer } from './index.js';
import { ensurePrivateDir } from '../private-fs.js';

/** PostgreSQL SQLSTATE → what the user should do. */
function describePgFailure(e: unknown, s: BufferSettings): { code: string; message: string } {
  const cause = e instanceof AppError ? (e.cause as { code?: string } | undefined) : (e as { code?: string } | undefined);
  const pgCode = cause?.code;
  const where = `${s.remote.host}:${s.remote.port}`;
  switch (pgCode) {
    case '28P01':
    case '28000':
      return {
        code: 'BUFFER_UNREACHABLE',
        message: `PostgreSQL (${where}) refuse l'utilisateur « ${s.remote.user} » : vérifiez le nom d'utilisateur et le mot de passe.`,
      };
    case '3D000':
      return {
        code: 'BUFFER_UNREACHABLE',
        message: `La base « ${s.remote.database} » n'existe pas sur ${where} : créez-la (CREATE DATABASE) ou corrigez son nom.`,
      };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return {
        code: 'BUFFER_UNREACHABLE',
        message: `Le serveur PostgreSQL ${where} est injoignable : vérifiez l'adresse, le port, que le service est démarré et que le pare-feu autorise la connexion.`,
      };
    default:
      return {
        code: e instanceof AppError ? e.code : 'BUFFER_ERROR',
        message: e instanceof AppError ? e.message : 'La base tampon a répondu par une erreur. Consultez le journal technique.',
      };
  }
}

export async function diagnoseBuffer(
  s: BufferSettings,
  userDataDir: string,
  alreadyOpen: { settings: BufferSettings; query(sql: string): Promise<unknown[]> } | null,
): Promise<ConnectionDiagnosis> {
  if (s.kind === 'embedded') {
    const dir = s.embeddedPath || join(userDataDir, 'buffer');
    const details = { type: 'intégrée (PGlite)', dossier: dir };
    if (alreadyOpen && alreadyOpen.settings.kind === 'embedded' && (alreadyOpen.settings.embeddedPath || '') === (s.embeddedPath || '')) {
      try {
        await alreadyOpen.query('SELECT 1');
        return { ok: true, code: null, message: `Base tampon intégrée opérationnelle (dossier ${dir}).`, details };
      } catch (e) {
        return { ok: false, code: 'BUFFER_ERROR', message: describePgFailure(e, s).message, details };
      }
    }
    try {
      ensurePrivateDir(dir);
      accessSync(dir, constants.W_OK);
    } catch {
      return {
        ok: false,
        code: 'BUFFER_ERROR',
        message: `Le dossier de la base tampon intégrée (${dir}) n'est pas accessible en écriture : choisissez un autre dossier ou corrigez ses droits.`,
        details,
      };
    }
  }
  const details: Record<string, string> =
    s.kind === 'embedded'
      ? { type: 'intégrée (PGlite)', dossier: s.embeddedPath || join(userDataDir, 'buffer') }
      : { type: 'PostgreSQL distant', serveur: `${s.remote.host}:${s.remote.port}`, base: s.remote.database };
  let store: Awaited<ReturnType<typeof openBuffer>> | null = null;
  try {
    store = await openBuffer(s, userDataDir);
    const rows = (await store.db.query('SELECT version() AS v')) as { v?: string }[];
    const version = String(rows[0]?.v ?? '').split(' on ')[0] ?? '';
    details.version = version;
    return {
      ok: true,
      code: null,
      message: s.kind === 'embedded' ? 'Base tampon intégrée prête (aucun serveur à installer).' : `Connexion réussie à la base tampon « ${s.remote.database} » (${version}).`,
      details,
    };
  } catch (e) {
    const d = describePgFailure(e, s);
    return { ok: false, code: d.code, message: d.message, details };
  } finally {
    await store?.db.close().catch(() => undefined);
  }
}
