/**
 * The Node implementation of UpdateBackend: reads the feed's latest.yml (the file electron-builder writes
 * next to the installer for its « generic » provider: version, files[{ url, sha512, size }], path, sha512,
 * releaseDate), compares its version with ours (semver), and downloads the installer into a folder,
 * verifying its SHA-512 as electron-updater does. It installs nothing: used headless and by the tests, against
 * a local feed server; the Electron app uses electron-updater itself (src/main/shell/electron-updater.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import semver from 'semver';
import { fetch as undiciFetch } from 'undici';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import type { UpdateBackend, UpdateFound } from './service.js';

const latestSchema = z.object({
  version: z.string().min(1),
  files: z.array(z.object({ url: z.string().min(1), sha512: z.string().min(1), size: z.number().int().min(0).optional() })).min(1),
  releaseDate: z.string().optional(),
});

export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string>; body: unknown }>;

export interface NodeUpdateBackendOptions {
  /** Where the installer is downloaded (e.g. <userData>/updates). */
  downloadDir: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

const feedError = (message: string, detail: string) => new AppError('UPDATE_FAILED', message, { detail, retryable: true });

/** The feed folder's URL with a trailing slash, so relative names resolve inside it. */
function feedBase(feedUrl: string): URL {
  let u: URL;
  try {
    u = new URL(feedUrl.endsWith('/') ? feedUrl : `${feedUrl}/`);
  } catch {
    throw new AppError('UPDATE_FAILED', "L'adresse des mises à jour est invalide (Réglages › Mises à jour › Adresse des mises à jour).", { detail: 'invalid feed url' });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new AppError('UPDATE_FAILED', "L'adresse des mises à jour doit commencer par https:// (Réglages › Mises à jour).", { detail: `protocol ${u.protocol}` });
  }
  return u;
}

export class NodeUpdateBackend implements UpdateBackend {
  private found: { version: string; url: URL; sha512: string; size: number | null } | null = null;
  private readonly fetchImpl: FetchLike;

  constructor(private readonly o: NodeUpdateBackendOptions) {
    this.fetchImpl = o.fetch ?? (undiciFetch as unknown as FetchLike);
  }

  /** The path of the installer once downloaded and verified. */
  downloadedFile: string | null = null;

  async check(feedUrl: string, currentVersion: string): Promise<UpdateFound | null> {
    const base = feedBase(feedUrl);
    const url = new URL('latest.yml', base);
    const res = await this.get(url);
    const text = await res.text();
    let parsed: z.infer<typeof latestSchema>;
    try {
      parsed = latestSchema.parse(parseYaml(text));
    } catch (e) {
      throw feedError('Le fichier latest.yml du serveur de mises à jour est illisible.', e instanceof Error ? e.message : String(e));
    }
    const version = semver.valid(parsed.version);
    const current = semver.valid(currentVersion) ?? '0.0.0';
    if (!version) throw feedError(`Le serveur de mises à jour annonce une version illisible (« ${parsed.version.slice(0, 40)} »).`, 'invalid semver');
    if (!semver.gt(version, current)) {
      this.found = null;
      return null;
    }
    const file = parsed.files[0]!;
    const fileUrl = new URL(file.url, base);
    if (fileUrl.origin !== base.origin) throw feedError("Le fichier de mise à jour n'est pas sur le serveur de mises à jour : il est refusé.", `file on ${fileUrl.origin}`);
    this.found = { version, url: fileUrl, sha512: file.sha512, size: file.size ?? null };
    return { version, releaseDate: parsed.releaseDate ?? null };
  }

  async download(): Promise<void> {
    const f = this.found;
    if (!f) throw new AppError('UPDATE_FAILED', 'Aucune mise à jour à télécharger.', { detail: 'download before check' });
    fs.mkdirSync(this.o.downloadDir, { recursive: true });
    const name = path.basename(decodeURIComponent(f.url.pathname)) || `connecteur-${f.version}.exe`;
    const target = path.join(this.o.downloadDir, name);
    const part = `${target}.part`;
    const res = await this.get(f.url, 30 * 60_000);
    if (!res.body) throw feedError('Le serveur de mises à jour a envoyé une réponse vide.', 'no body');
    const hash = createHash('sha512');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as never), tap, fs.createWriteStream(part, { mode: 0o600 }));
    } catch (e) {
      fs.rmSync(part, { force: true });
      throw feedError('Le téléchargement de la mise à jour a été interrompu.', e instanceof Error ? e.message : String(e));
    }
    const got = hash.digest('base64');
    if (got !== f.sha512 || (f.size !== null && size !== f.size)) {
      fs.rmSync(part, { force: true });
      throw feedError('Le fichier de mise à jour téléchargé ne correspond pas à celui annoncé (somme de contrôle) : il a été supprimé.', `sha512 ${got} != ${f.sha512}, size ${size}`);
    }
    fs.renameSync(part, target);
    this.downloadedFile = target;
  }

  private async get(url: URL, timeoutMs = this.o.timeoutMs ?? 30_000): Promise<Awaited<ReturnType<FetchLike>>> {
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchImpl(url.toString(), { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw feedError(`Le serveur de mises à jour (${url.host}) est injoignable.`, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    if (!res.ok) throw feedError(`Le serveur de mises à jour (${url.host}) répond par une erreur ${res.status}.`, `GET ${url.pathname} → ${res.status}`);
    return res;
  }
}
