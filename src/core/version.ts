/** Slipway's one version, package.json's: the CLI's --version and the server's health answers. */
import pkg from '../../package.json';

export const VERSION: string = pkg.version;
