/**
 * Server-rendered admin pages (French). Every dynamic value goes through `esc`; the stylesheet is
 * served from /admin/style.css (no inline style, no external asset, strict CSP).
 */
import type { AuditRow, LicenseRow, MachineRow, StatusFilter, ValidationRow } from './store.js';

export function esc(v: unknown): string {
  return String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const dateFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' });
const dayFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'medium', timeZone: 'Europe/Paris' });
const fmt = (d: Date | null | undefined) => (d ? dateFmt.format(d) : '—');
const day = (d: Date | null | undefined) => (d ? dayFmt.format(d) : '—');

export const STYLE_CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f4f6f8}
header{background:#12344d;color:#fff;padding:.8rem 1.5rem;display:flex;align-items:center;justify-content:space-between}
header a{color:#fff;text-decoration:none;font-weight:600}header form{margin:0}
main{max-width:1100px;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#52606d;letter-spacing:.03em}
code,.key{font-family:ui-monospace,Consolas,monospace;font-size:.95em}
.badge{display:inline-block;border-radius:999px;padding:.1rem .55rem;font-size:.8rem;font-weight:600}
.ok{background:#e3f9e5;color:#05400a}.warn{background:#fff3c4;color:#8d2b0b}.bad{background:#ffe3e3;color:#610316}.off{background:#e4e7eb;color:#323f4b}
form.inline{display:inline}label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input,select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #9fb3c8;border-radius:5px;width:100%;max-width:420px}
button,.btn{font:inherit;background:#2680c2;color:#fff;border:0;border-radius:5px;padding:.45rem .9rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#627d98}button.danger{background:#ba2525}
.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end;margin-bottom:1rem}.filters input{width:260px}
.tabs a{margin-right:.8rem}.tabs a.current{font-weight:700;text-decoration:underline}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;background:#e3f9e5;border:1px solid #a3d9a5}
.error{background:#ffe3e3;border-color:#f29b9b}.newkey{font-size:1.5rem;letter-spacing:.08em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:#52606d}dd{margin:0}
.login{max-width:380px;margin:4rem auto}input.days{width:6rem}
`;

const KIND_LABELS: Record<string, string> = { validate: 'Validation', heartbeat: 'Signal de vie' };
const RESULT_LABELS: Record<string, string> = {
  valid: 'Valide',
  expired: 'Expirée',
  deactivated: 'Désactivée',
  machine_limit: 'Limite de postes',
  invalid: 'Clé inconnue',
};
const ACTION_LABELS: Record<string, string> = {
  connexion: 'Connexion',
  'connexion.echec': 'Échec de connexion',
  deconnexion: 'Déconnexion',
  'licence.creation': 'Création',
  'licence.desactivation': 'Désactivation',
  'licence.reactivation': 'Réactivation',
  'licence.prolongation': 'Prolongation',
  'poste.liberation': 'Libération de poste',
  'poste.migration': 'Nouvel identifiant de poste (place conservée)',
};
const label = (map: Record<string, string>, v: string) => esc(map[v] ?? v);

export interface PageCtx {
  csrf: string;
  user: string | null;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

export function layout(ctx: PageCtx, title: string, body: string): string {
  const nav = ctx.user
    ? `<nav><a href="/admin">Licences</a> · <a href="/admin/licenses/new">Nouvelle licence</a> · <a href="/admin/audit">Journal</a></nav>
       <form method="post" action="/admin/logout">${csrfField(ctx)}<button class="secondary" type="submit">Se déconnecter (${esc(ctx.user)})</button></form>`
    : '';
  const flash = ctx.flash ? `<div class="flash ${ctx.flash.kind === 'error' ? 'error' : ''}" role="status">${esc(ctx.flash.text)}</div>` : '';
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} — Gestionnaire de licences</title><link rel="stylesheet" href="/admin/style.css"></head>
<body><header><a href="/admin">Gestionnaire de licences SAGES</a>${nav}</header><main>${flash}${body}</main></body></html>`;
}

function csrfField(ctx: PageCtx): string {
  return `<input type="hidden" name="_csrf" value="${esc(ctx.csrf)}">`;
}

export function loginPage(ctx: PageCtx, error?: string): string {
  return layout(
    ctx,
    'Connexion',
    `<div class="card login"><h1>Connexion administrateur</h1>
${error ? `<div class="flash error">${esc(error)}</div>` : ''}
<form method="post" action="/admin/login">${csrfField(ctx)}
<label for="username">Identifiant</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Mot de passe</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Se connecter</button></p></form></div>`,
  );
}

export function licenseBadge(l: LicenseRow, now: Date): string {
  if (!l.active) return '<span class="badge off">Désactivée</span>';
  if (l.expires_at <= now) return '<span class="badge bad">Expirée</span>';
  if (l.expires_at.getTime() - now.getTime() <= 30 * 86_400_000) return '<span class="badge warn">Expire bientôt</span>';
  return '<span class="badge ok">Active</span>';
}

const FILTER_LABELS: Record<StatusFilter, string> = {
  all: 'Toutes',
  active: 'Actives',
  expiring: 'Expirent sous 30 jours',
  expired: 'Expirées',
  deactivated: 'Désactivées',
};

export function dashboardPage(
  ctx: PageCtx,
  rows: LicenseRow[],
  filter: { q: string; status: StatusFilter },
  counts: Record<StatusFilter, number>,
  now: Date,
): string {
  const tabs = (Object.keys(FILTER_LABELS) as StatusFilter[])
    .map((s) => {
      const href = `/admin?status=${s}${filter.q ? `&q=${encodeURIComponent(filter.q)}` : ''}`;
      return `<a class="${s === filter.status ? 'current' : ''}" href="${esc(href)}">${esc(FILTER_LABELS[s])} (${counts[s]})</a>`;
    })
    .join('');
  const body = rows.length
    ? rows
        .map(
          (l) => `<tr><td><a class="key" href="/admin/licenses/${esc(l.id)}">${esc(l.key)}</a></td><td>${esc(l.client_name)}<br><small>${esc(l.email ?? '')}</small></td>
<td>${day(l.expires_at)}</td><td>${licenseBadge(l, now)}</td><td>${esc(l.machines_in_use ?? 0)} / ${esc(l.max_machines)}</td><td>${fmt(l.last_validated_at)}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="6">Aucune licence ne correspond à ces critères.</td></tr>';
  return layout(
    ctx,
    'Licences',
    `<h1>Licences</h1>
<form class="filters" method="get" action="/admin"><div><label for="q">Rechercher (clé, client, e-mail)</label><input id="q" name="q" value="${esc(filter.q)}"></div>
<div><label for="status">Statut</label><select id="status" name="status">${(Object.keys(FILTER_LABELS) as StatusFilter[])
      .map((s) => `<option value="${s}"${s === filter.status ? ' selected' : ''}>${esc(FILTER_LABELS[s])}</option>`)
      .join('')}</select></div><div><button type="submit">Filtrer</button></div></form>
<p class="tabs">${tabs}</p>
<table><thead><tr><th>Clé</th><th>Client</th><th>Expiration</th><th>Statut</th><th>Postes</th><th>Dernière validation</th></tr></thead><tbody>${body}</tbody></table>`,
  );
}

export function createPage(ctx: PageCtx, values: Record<string, string> = {}, error?: string): string {
  const v = (k: string, d = '') => esc(values[k] ?? d);
  return layout(
    ctx,
    'Nouvelle licence',
    `<h1>Nouvelle licence</h1>${error ? `<div class="flash error">${esc(error)}</div>` : ''}
<form class="card" method="post" action="/admin/licenses">${csrfField(ctx)}
<label for="client_name">Client</label><input id="client_name" name="client_name" required maxlength="300" value="${v('client_name')}">
<label for="email">E-mail</label><input id="email" name="email" type="email" maxlength="320" value="${v('email')}">
<label for="duration_days">Durée (jours)</label><input id="duration_days" name="duration_days" type="number" min="1" max="3660" required value="${v('duration_days', '365')}">
<label for="max_machines">Nombre de postes</label><input id="max_machines" name="max_machines" type="number" min="1" max="1000" required value="${v('max_machines', '1')}">
<label for="usage_limit">Limite d'utilisation (vide = illimitée)</label><input id="usage_limit" name="usage_limit" type="number" min="0" value="${v('usage_limit')}">
<label for="features">Fonctionnalités (séparées par des virgules)</label><input id="features" name="features" value="${v('features', 'chantiers,heures')}">
<label for="notes">Notes</label><textarea id="notes" name="notes" maxlength="2000">${v('notes')}</textarea>
<p><button type="submit">Créer la licence</button></p></form>`,
  );
}

export function detailsPage(
  ctx: PageCtx,
  l: LicenseRow,
  machines: MachineRow[],
  history: ValidationRow[],
  audit: AuditRow[],
  now: Date,
  newKey: boolean,
): string {
  const act = (path: string, label: string, cls = '', extra = '') =>
    `<form class="inline" method="post" action="/admin/licenses/${esc(l.id)}/${path}">${csrfField(ctx)}${extra}<button class="${cls}" type="submit">${esc(label)}</button></form>`;
  const machineRows = machines.length
    ? machines
        .map(
          (m) => `<tr><td><code>${esc(m.machine_id)}</code></td><td>${esc(m.app_version ?? '')}</td><td>${fmt(m.activated_at)}</td><td>${fmt(m.last_seen_at)}</td>
<td>${m.released_at ? `Libéré le ${fmt(m.released_at)}` : act(`machines/${encodeURIComponent(m.id)}/release`, 'Libérer le poste', 'secondary')}</td></tr>`,
        )
        .join('')
    : '<tr><td colspan="5">Aucun poste activé.</td></tr>';
  const historyRows = history.length
    ? history
        .map((h) => `<tr><td>${fmt(h.created_at)}</td><td>${label(KIND_LABELS, h.kind)}</td><td>${label(RESULT_LABELS, h.status)}</td><td><code>${esc(h.machine_id ?? '')}</code></td><td>${esc(h.app_version ?? '')}</td></tr>`)
        .join('')
    : '<tr><td colspan="5">Aucune validation.</td></tr>';
  const auditRows = audit.map((a) => `<tr><td>${fmt(a.at)}</td><td>${esc(a.actor)}</td><td title="${esc(a.action)}">${label(ACTION_LABELS, a.action)}</td><td><code>${esc(JSON.stringify(a.details))}</code></td></tr>`).join('');
  return layout(
    ctx,
    `Licence ${l.client_name}`,
    `<h1>${esc(l.client_name)} ${licenseBadge(l, now)}</h1>
${newKey ? `<div class="flash">Licence créée. Clé à transmettre au client : <span class="key newkey">${esc(l.key)}</span></div>` : ''}
<div class="card"><dl><dt>Clé</dt><dd class="key">${esc(l.key)}</dd><dt>E-mail</dt><dd>${esc(l.email ?? '—')}</dd>
<dt>Expiration</dt><dd>${day(l.expires_at)}</dd><dt>Postes</dt><dd>${esc(machines.filter((m) => !m.released_at).length)} / ${esc(l.max_machines)}</dd>
<dt>Utilisation</dt><dd>${esc(l.usage_count)}${l.usage_limit !== null ? ` / ${esc(l.usage_limit)}` : ' (illimitée)'}</dd>
<dt>Fonctionnalités</dt><dd>${esc(Object.keys(l.features).join(', ') || '—')}</dd><dt>Notes</dt><dd>${esc(l.notes ?? '')}</dd>
<dt>Créée le</dt><dd>${fmt(l.created_at)}</dd><dt>Dernière validation</dt><dd>${fmt(l.last_validated_at)}</dd></dl></div>
<div class="card">${l.active ? act('deactivate', 'Désactiver', 'danger') : act('reactivate', 'Réactiver')}
${act('extend', 'Prolonger', '', '<input class="days" aria-label="Jours" name="days" type="number" min="1" max="3660" value="365" required> jours ')}</div>
<h2>Postes</h2><table><thead><tr><th>Poste</th><th>Version</th><th>Activé le</th><th>Vu le</th><th></th></tr></thead><tbody>${machineRows}</tbody></table>
<h2>Historique des validations</h2><table><thead><tr><th>Date</th><th>Type</th><th>Résultat</th><th>Poste</th><th>Version</th></tr></thead><tbody>${historyRows}</tbody></table>
<h2>Journal d'administration</h2><table><thead><tr><th>Date</th><th>Auteur</th><th>Action</th><th>Détail</th></tr></thead><tbody>${auditRows}</tbody></table>`,
  );
}

export function auditPage(ctx: PageCtx, audit: AuditRow[]): string {
  const rows = audit
    .map(
      (a) => `<tr><td>${fmt(a.at)}</td><td>${esc(a.actor)}</td><td title="${esc(a.action)}">${label(ACTION_LABELS, a.action)}</td><td>${a.license_id ? `<a href="/admin/licenses/${esc(a.license_id)}">licence</a>` : ''}</td><td><code>${esc(JSON.stringify(a.details))}</code></td><td>${esc(a.ip ?? '')}</td></tr>`,
    )
    .join('');
  return layout(ctx, 'Journal', `<h1>Journal d'administration</h1><table><thead><tr><th>Date</th><th>Auteur</th><th>Action</th><th></th><th>Détail</th><th>IP</th></tr></thead><tbody>${rows}</tbody></table>`);
}

export function messagePage(ctx: PageCtx, title: string, text: string): string {
  return layout(ctx, title, `<div class="card"><h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/admin">Retour</a></p></div>`);
}
