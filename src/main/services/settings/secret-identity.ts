/**
 * A saved secret is only ever sent to the identity it was saved for.
 *
 * A secret is saved together with the server, account and security mode it belongs to (its identity
 * fields, given by the secret's mark in the settings schema, src/shared/settings.ts). A change of settings that moves any of those fields while the saved secret is
 * kept (`{ keep: true }` or left out) would send that secret to a host, an account or a transport the
 * person who typed it never chose: such a change is refused, and the caller types the secret again. A
 * secret typed in the same request, an empty one or a cleared one is never refused.
 *
 * Used by `applyPatch` (service.ts), hence by settings.update and by the « Tester la connexion » overrides
 * (sqlServer.test, buffer.test, batisimply.test).
 */
import type { SettingsPatch } from '../../../shared/contract.js';
import { SECRETS, type SecretPath, type Settings } from '../../../shared/settings.js';
import { settingLabel } from './labels.js';
import { getPath } from './paths.js';

export interface SecretIdentity {
  secret: SecretPath;
  /** Setting paths that, together, name who receives the secret. */
  identity: readonly string[];
  /** « saisissez-le » / « saisissez-la » */
  pronoun: 'le' | 'la';
}

/** Which identity fields guard which secret: from the secret marks of the settings schema (src/shared/settings.ts). */
export const SECRET_IDENTITIES: readonly SecretIdentity[] = SECRETS.map((x) => ({ secret: x.path, identity: x.meta.identity, pronoun: x.meta.pronoun }));

const URL_FIELDS = new Set(['batisimply.ssoUrl', 'batisimply.apiUrl', 'imports.apiUrl', 'proxy.url', 'licence.serverUrl', 'licence.supabaseUrl']);
const HOST_FIELDS = new Set(['sqlServer.server', 'buffer.remote.host', 'sqlServer.domain', 'alerts.smtpHost']);

/** Equal identities compare equal: spaces around, the case of a host, a trailing slash do not count. */
function normalised(field: string, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (URL_FIELDS.has(field)) {
    try {
      return new URL(t).href.replace(/\/+$/, '');
    } catch {
      return t.replace(/\/+$/, '');
    }
  }
  if (HOST_FIELDS.has(field)) return t.toLowerCase().replace(/\s*,\s*/g, ',');
  return t;
}

export interface KeptSecretRefusal {
  secret: SecretPath;
  /** The identity fields that changed. */
  changed: string[];
}

/**
 * The rule, pure: the secrets that `next` keeps from `saved` (not typed again in `patch`) while one of
 * their identity fields differs. Empty when the change is allowed.
 */
export function keptSecretsOffIdentity(saved: Settings, next: Settings, patch: SettingsPatch): KeptSecretRefusal[] {
  const out: KeptSecretRefusal[] = [];
  for (const { secret, identity } of SECRET_IDENTITIES) {
    const before = getPath(saved, secret);
    if (typeof before !== 'string' || before === '') continue; // nothing saved, nothing to leak
    if (typeof getPath(patch, secret) === 'string') continue; // typed in this request
    if (getPath(next, secret) !== before) continue; // cleared (or replaced)
    const changed = identity.filter((f) => normalised(f, getPath(saved, f)) !== normalised(f, getPath(next, f)));
    if (changed.length > 0) out.push({ secret, changed });
  }
  return out;
}

/** « Réglages › Base tampon › Mot de passe : saisissez-le de nouveau, car « Port » a changé… ». */
export function keptSecretMessage(refusals: readonly KeptSecretRefusal[], software: Settings['software']): string {
  const field = (p: string) => settingLabel(p, software).split(' › ').pop() as string;
  const parts = refusals.map((r) => {
    const pronoun = SECRET_IDENTITIES.find((e) => e.secret === r.secret)?.pronoun ?? 'le';
    const changed = r.changed.map((c) => `« ${field(c)} »`).join(', ');
    return `${settingLabel(r.secret, software)} : saisissez-${pronoun} de nouveau, car ${changed} ${r.changed.length > 1 ? 'ont' : 'a'} changé`;
  });
  return `${parts.join(' ; ')}. Un secret enregistré n'est envoyé qu'au serveur et au compte pour lesquels il a été saisi.`;
}
