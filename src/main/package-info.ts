/**
 * What package.json says about this build: version, product name, and whether it is a release.
 *
 * `connecteurRelease: true` is written into the packaged app's package.json by electron-builder
 * (`extraMetadata` in electron-builder.yml): the Electron app and the CLI it ships then both apply the
 * release licence policy (the vendor key built in, nothing else trusted). From sources it is absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export interface PackageInfo {
  version: string;
  productName: string;
  /** True in a packaged release (electron-builder extraMetadata), false from sources. */
  release: boolean;
}

const packageJsonSchema = z.object({
  version: z.string().optional(),
  productName: z.string().optional(),
  connecteurRelease: z.boolean().optional(),
});

const FALLBACK: PackageInfo = { version: '0.0.0', productName: 'Connecteur Batigest BatiSimply', release: false };

/** package.json two folders up from src/main or dist/main (or `file`, for tests). */
export function readPackageInfo(file?: string): PackageInfo {
  try {
    const where = file ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
    const pkg = packageJsonSchema.parse(JSON.parse(fs.readFileSync(where, 'utf8')));
    return { version: pkg.version ?? FALLBACK.version, productName: pkg.productName ?? FALLBACK.productName, release: pkg.connecteurRelease === true };
  } catch {
    return { ...FALLBACK };
  }
}
