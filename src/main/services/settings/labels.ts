/**
 * Where a setting is shown to the user, for French messages that name the screen and the field:
 * `settingLabel('buffer.remote.port')` → « Réglages › Base tampon › Port ». One table, built from the
 * renderer's own strings (src/shared/strings.fr.ts) so a message and the screen use the same words.
 */
import { fr } from '../../../shared/strings.fr.js';
import { SOFTWARE_LABELS, type Settings } from '../../../shared/settings.js';

type Software = Settings['software'];

const FIELD_LABELS: Record<string, string> = {
  'sqlServer.server': fr.sql.server,
  'sqlServer.database': 'Base de données',
  'sqlServer.authentication': fr.sql.auth,
  'sqlServer.user': fr.sql.user,
  'sqlServer.password': fr.sql.password,
  'sqlServer.domain': fr.sql.domain,
  'sqlServer.encrypt': fr.sql.encrypt,
  'sqlServer.trustServerCertificate': fr.sql.trust,
  'buffer.kind': fr.buffer.kind,
  'buffer.remote.host': fr.buffer.host,
  'buffer.remote.port': fr.buffer.port,
  'buffer.remote.database': fr.buffer.database,
  'buffer.remote.user': fr.buffer.user,
  'buffer.remote.password': fr.buffer.password,
  'buffer.remote.ssl': fr.buffer.ssl,
  'batisimply.environment': fr.batisimply.environment,
  'batisimply.ssoUrl': fr.batisimply.ssoUrl,
  'batisimply.apiUrl': fr.batisimply.apiUrl,
  'batisimply.grantType': fr.batisimply.grantType,
  'batisimply.realm': 'Domaine (realm) du SSO',
  'batisimply.clientId': fr.batisimply.clientId,
  'batisimply.clientSecret': fr.batisimply.clientSecret,
  'batisimply.username': fr.batisimply.username,
  'batisimply.password': fr.batisimply.password,
  'licence.key': fr.licence.key,
  'schedule.enabled': fr.schedule.enabled,
  'schedule.intervalSeconds': fr.schedule.interval,
  'schedule.retries': fr.schedule.retries,
  'schedule.flows': fr.schedule.flows,
  'schedule.startWithWindows': fr.schedule.startWithWindows,
  'hours.windowDays': fr.options.windowDays,
  'hours.timezone': fr.options.timezone,
  'hours.removeUnvalidated': fr.options.removeUnvalidated,
  'imports.apiUrl': fr.imports.apiUrl,
  'imports.apiKey': fr.imports.apiKey,
  'imports.agentId': fr.imports.agentId,
  'imports.batigestImportPath': fr.imports.importPath,
  'imports.workDir': fr.imports.workDir,
  'proxy.url': 'Adresse du proxy',
  'proxy.username': 'Utilisateur du proxy',
  'proxy.password': 'Mot de passe du proxy',
  'alerts.smtpHost': 'Serveur SMTP',
  'alerts.smtpPassword': 'Mot de passe SMTP',
  'updates.feedUrl': fr.updates.feedUrl,
  'protection.pinHash': 'Code',
  'protection.idleMinutes': fr.protection.idle,
  software: fr.options.software,
  mode: fr.options.mode,
  machineName: fr.settings.machineName,
};

/** The card of the settings page that shows each section. */
function sectionTitle(section: string, software: Software): string | null {
  switch (section) {
    case 'sqlServer':
      return fr.sql.title(SOFTWARE_LABELS[software]);
    case 'buffer':
      return fr.buffer.title;
    case 'batisimply':
      return fr.batisimply.title;
    case 'schedule':
      return fr.schedule.title;
    case 'hours':
    case 'software':
    case 'mode':
      return fr.options.title;
    case 'machineName':
      return fr.settings.general;
    case 'updates':
      return fr.updates.title;
    case 'imports':
      return fr.imports.settingsTitle;
    case 'proxy':
    case 'alerts':
      return fr.imports.networkTitle;
    case 'protection':
      return fr.protection.title;
    default:
      return null;
  }
}

/** Fields shown under « Avancé » in their section. */
const ADVANCED = new Set(['batisimply.environment', 'batisimply.ssoUrl', 'batisimply.apiUrl', 'batisimply.grantType']);

/** « Réglages › Base tampon › Port »; a field without a label on screen is named by its path. */
export function settingLabel(settingPath: string, software: Software = 'batigest'): string {
  const section = settingPath.split('.')[0] ?? settingPath;
  // The licence has its own page, outside the settings.
  if (section === 'licence') return `${fr.licence.title} › ${FIELD_LABELS[settingPath] ?? settingPath}`;
  const title = sectionTitle(section, software);
  // The database field names the software (« Base de données Sage Batigest »), as on screen.
  const field = settingPath === 'sqlServer.database' ? fr.sql.database(SOFTWARE_LABELS[software]) : (FIELD_LABELS[settingPath] ?? settingPath);
  return [fr.settings.title, ...(title ? [title] : []), ...(ADVANCED.has(settingPath) ? [fr.common.advanced] : []), field].join(' › ');
}
