/**
 * Licence configuration BUILT INTO the release (passed as `pinned` to LicenceService by the
 * composition root). Settings and CONNECTEUR_* variables cannot change these values.
 *
 * Before building a release, the vendor sets VENDOR_LICENCE_PUBLIC_KEY to the SPKI PEM printed by
 * `npm run license-manager -- generate-keys` (the public half only; the private key stays on the
 * licence server). While it is empty, the public key comes from the settings (integration and test
 * builds), which lets whoever can edit the settings trust a key of their own.
 */
import type { PinnedLicenceConfig } from './licence-service.js';

export const VENDOR_LICENCE_PUBLIC_KEY = '';

export const VENDOR_LICENCE_PINNED: PinnedLicenceConfig = VENDOR_LICENCE_PUBLIC_KEY ? { provider: 'manager', publicKey: VENDOR_LICENCE_PUBLIC_KEY } : {};

/**
 * Licence settings that CONNECTEUR_* variables and CONNECTEUR_SETTINGS_FILE must not change once the
 * vendor key is built in: otherwise an environment variable could point the app at another server.
 */
export const LICENCE_LOCKED_PATHS = ['licence.publicKey', 'licence.serverUrl', 'licence.provider', 'licence.supabaseUrl'] as const;

/** The paths locked against environment overrides in this build (none while no vendor key is built in). */
export const VENDOR_LOCKED_SETTING_PATHS: readonly string[] = VENDOR_LICENCE_PUBLIC_KEY ? LICENCE_LOCKED_PATHS : [];
