/**
 * E-mail alerts over SMTP (nodemailer): an export in error is told, with the reason and the way out, to the
 * addresses of Réglages › Proxy et alertes. Off unless `alerts.emailEnabled` and a server and recipients are set. A mail that
 * cannot be sent is logged (never fails the cycle). The SMTP password is a secret: never logged.
 */
import nodemailer from 'nodemailer';
import type { AlertsSettings } from '../../../shared/settings.js';
import type { Logger } from '../ports.js';

export interface ExportErrorAlert {
  exportId: string;
  fileName: string;
  reason: string;
}

export interface MailAlerts {
  /** True when the settings allow sending. */
  readonly active: boolean;
  exportError(e: ExportErrorAlert, software: string): Promise<boolean>;
}

/** The alert’s subject and text, in French. Pure. */
export function exportErrorMail(e: ExportErrorAlert, software: string, machine: string): { subject: string; text: string } {
  return {
    subject: `Connecteur ${software} : export ${e.exportId} en erreur`,
    text: [
      `Bonjour,`,
      ``,
      `Sur le poste ${machine}, l’export ${e.exportId} (fichier « ${e.fileName} ») n’a pas pu être importé dans ${software}.`,
      ``,
      `Raison : ${e.reason}`,
      ``,
      `Que faire : vérifiez que ${software} est ouvert et que son import automatique est actif, puis ouvrez le connecteur, page Imports, et cliquez sur « Réessayer » en face de cet export. Le fichier est conservé dans le dossier Errors du dossier de travail.`,
      ``,
      `— Le connecteur ${software} ↔ BatiSimply`,
    ].join('\n'),
  };
}

export function createMailAlerts(s: AlertsSettings, o: { logger: Logger; machine: string }): MailAlerts {
  const to = s.to.split(/[,;]/).map((x) => x.trim()).filter(Boolean);
  const active = s.emailEnabled && s.smtpHost.trim() !== '' && to.length > 0;
  return {
    active,
    async exportError(e, software) {
      if (!active) return false;
      const transport = nodemailer.createTransport({
        host: s.smtpHost.trim(),
        port: s.smtpPort,
        secure: s.smtpSecure,
        ...(s.smtpUser ? { auth: { user: s.smtpUser, pass: s.smtpPassword } } : {}),
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 30_000,
      });
      const mail = exportErrorMail(e, software, o.machine);
      try {
        await transport.sendMail({ from: s.from.trim() || `connecteur@${o.machine.toLowerCase()}.local`, to, subject: mail.subject, text: mail.text });
        o.logger.info('alert e-mail sent', { exportId: e.exportId, to: to.length });
        return true;
      } catch (err) {
        o.logger.warn('alert e-mail could not be sent', { exportId: e.exportId, code: (err as { code?: string }).code, detail: err instanceof Error ? err.message : String(err) });
        return false;
      } finally {
        transport.close();
      }
    },
  };
}
