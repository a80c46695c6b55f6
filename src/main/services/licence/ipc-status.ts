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
  const state: ContractLicenceStatus['state'] =
    s.state === 'hors_ligne' ? (s.allowsSync ? 'offline_grace' : s.cacheRejected ? 'tampered' : 'offline_expired') : STATE_MAP[s.state];
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
