/**
 * Maps the licence client's status (French states of src/shared/licence.ts) onto the IPC
 * contract's `licenceStatusSchema` (src/shared/contract.ts), for the IPC handlers.
 */
import type { LicenceStatus as ContractLicenceStatus } from '../../../shared/contract.js';
import type { LicenceStatus } from '../../../shared/licence.js';

const STATE_MAP = {
  non_configuree: 'missing',
  valide: 'valid',
  expire_bientot: 'expiring',
  expiree: 'expired',
  desactivee: 'deactivated',
  limite_postes: 'machine_limit',
  cle_inconnue: 'unknown_key',
} as const;

export function toContractLicenceStatus(s: LicenceStatus): ContractLicenceStatus {
  let state: ContractLicenceStatus['state'];
  if (s.state !== 'hors_ligne') state = STATE_MAP[s.state];
  else if (s.allowsSync) state = 'offline_grace';
  else if (s.cacheRejected) state = 'tampered';
  // never checked yet (start-up still running): not "expired", just not verified
  else if (s.nextCheckAt === null) state = 'error';
  else state = 'offline_expired';
  return {
    state,
    message: s.message,
    keyHint: s.keyMasked === '' ? null : s.keyMasked,
    clientName: s.clientName,
    expiresAt: s.expiresAt,
    daysLeft: s.daysUntilExpiry,
    graceDaysLeft: s.graceDaysLeft,
    lastValidatedAt: s.lastValidatedAt,
    nextCheckAt: s.nextCheckAt,
    machineId: s.machineId ?? '',
    features: Object.entries(s.features)
      .filter(([, v]) => v !== false && v !== null)
      .map(([k]) => k),
    syncAllowed: s.allowsSync,
  };
}
