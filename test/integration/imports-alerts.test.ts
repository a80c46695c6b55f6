/**
 * Alerts of the import agent: an export in error is sent by e-mail (nodemailer) to a real SMTP server on loopback
 * (smtp-server, with authentication), in French with the reason and the way out; nothing is sent when the alerts are
 * off; the export in error reaches the desktop notification policy (« 1 import en erreur », once).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailAlerts } from '../../src/main/services/alerts/mail.js';
import { notificationsFor } from '../../src/main/shell/notification-policy.js';
import { connectorState } from '../../src/shared/connector-state.js';
import type { Overview } from '../../src/shared/contract.js';
import { defaultSettings } from '../../src/shared/settings.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

interface Received {
  from: string;
  to: string[];
  body: string;
  user: string;
}
const received: Received[] = [];
let server: SMTPServer;
let port = 0;

beforeAll(async () => {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alertes' && auth.password === 'mot-de-passe-smtp') return cb(null, { user: auth.username });
      return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let body = '';
      stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), body, user: String(session.user ?? '') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const alertSettings = (patch: Partial<ReturnType<typeof defaultSettings>['alerts']> = {}) => ({
  ...defaultSettings().alerts,
  emailEnabled: true,
  smtpHost: '127.0.0.1',
  smtpPort: port,
  smtpUser: 'alertes',
  smtpPassword: 'mot-de-passe-smtp',
  from: 'connecteur@entreprise.fr',
  to: 'gerant@entreprise.fr, integrateur@exemple.fr',
  ...patch,
});
const error = { exportId: 'EXP-0042', fileName: 'EXP-0042_devis.xml', reason: "Sage Batigest n’a pas importé le fichier « EXP-0042_devis.xml » en 120 secondes." };

describe('e-mail alerts', () => {
  it('sends the error and the way out in French to every recipient, authenticated', async () => {
    const logs = memoryLogger();
    const mail = createMailAlerts(alertSettings(), { logger: logs, machine: 'PC-BUREAU' });
    expect(await mail.exportError(error, 'Sage Batigest')).toBe(true);
    expect(received).toHaveLength(1);
    const m = received[0]!;
    expect(m.user).toBe('alertes');
    expect(m.from).toBe('connecteur@entreprise.fr');
    expect(m.to).toEqual(['gerant@entreprise.fr', 'integrateur@exemple.fr']);
    const body = m.body.replace(/=\r?\n/g, '');
    expect(body).toMatch(/Subject: Connecteur Sage Batigest : export EXP-0042 en erreur/);
    expect(body).toContain('EXP-0042');
    expect(body).toMatch(/R=C3=A9essayer|Réessayer/);
    expect(JSON.stringify(logs.records)).not.toContain('mot-de-passe-smtp');
  });

  it('sends nothing when the alerts are off, and logs (never throws) when the server refuses', async () => {
    const before = received.length;
    expect(await createMailAlerts(alertSettings({ emailEnabled: false }), { logger: memoryLogger(), machine: 'PC' }).exportError(error, 'Sage Batigest')).toBe(false);
    const logs = memoryLogger();
    expect(await createMailAlerts(alertSettings({ smtpPassword: 'faux' }), { logger: logs, machine: 'PC' }).exportError(error, 'Sage Batigest')).toBe(false);
    expect(received.length).toBe(before);
    expect(logs.records.some((r) => r.msg === 'alert e-mail could not be sent')).toBe(true);
  });
});

describe('desktop notification of an export in error', () => {
  it('is notified once by the notification policy, then not again', () => {
    const overview: Overview = {
      at: new Date().toISOString(),
      softwareLabel: 'Sage Batigest',
      setup: { completed: true, missing: [] },
      licence: null,
      schedule: { enabled: true, intervalSeconds: 300, nextRunAt: null, pausedUntil: null },
      running: null,
      flows: [],
      waiting: [{ kind: 'import_error', flow: 'imports', count: 1, keys: ['EXP-0042'], names: ['EXP-0042_devis.xml'], hours: null, slots: null, runId: null }],
      bufferError: null,
      journalKnown: true,
      lastAttempt: null,
    } as unknown as Overview;
    const state = connectorState(overview, new Date());
    const first = notificationsFor(null, { ...state, settled: true });
    expect(first.notices.map((n) => n.title)).toEqual(['1 import en erreur']);
    expect(first.notices[0]!.body).toContain('EXP-0042_devis.xml');
    expect(notificationsFor(first.memory, { ...state, settled: true }).notices).toEqual([]);
  });
});
