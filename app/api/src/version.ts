import { readFileSync } from 'node:fs';

/** The package's own version (what the source tree says). */
export const PACKAGE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/**
 * The running version: the image's PRAXISKERN_VERSION (set at build time in the app image, the
 * version of the release bundle it came from), else the package's version (development, tests).
 */
export const VERSION: string = process.env.PRAXISKERN_VERSION?.trim() || PACKAGE_VERSION;
