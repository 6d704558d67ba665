// The package name and version, read from package.json so there is one source of truth.
import pkg from '../package.json' with { type: 'json' };

/** Package name as published in package.json ("ltx-edge"). */
export const NAME: string = pkg.name;

/** Package version as published in package.json (semver). */
export const VERSION: string = pkg.version;
