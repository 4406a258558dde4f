/**
 * The host's Debian release and apt mirror, read without a network: /etc/os-release and the
 * apt sources (one-line `.list` files and deb822 `.sources` files). The Debian base image is
 * bootstrapped from the host's own mirror (a local mirror or proxy on air-gapped hosts) and its
 * /etc/apt/sources.list points at the same places. Parsing is pure; reading is in readHost*.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { SlipwayError } from '../../core/errors';

export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_DEBIAN_SECURITY = 'http://deb.debian.org/debian-security';

export interface AptSource {
  /** `deb` or `deb-src`. */
  type: string;
  uri: string;
  suite: string;
  components: string[];
  /** The keyring the host verifies this source with (`signed-by`), when it names a file. */
  signedBy: string | null;
  /** The file it was read from (for messages). */
  file: string;
}

export interface OsRelease {
  id: string;
  idLike: string[];
  codename: string | null;
  versionId: string | null;
}

export interface DebianMirror {
  /** The main archive, e.g. `http://deb.debian.org/debian`. */
  uri: string;
  components: string[];
  /** Whether the host also uses `<codename>-updates` from the main archive. */
  updates: boolean;
  /** The security archive, when the host uses one for this release. */
  security: { uri: string; components: string[] } | null;
  /** The keyring the host verifies the main archive with, when it names one. */
  keyring: string | null;
  /** Why the default mirror was used, when it was. */
  note: string | null;
}

export function parseOsRelease(text: string): OsRelease {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return {
    id: vars.ID ?? '',
    idLike: (vars.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
    codename: vars.VERSION_CODENAME || null,
    versionId: vars.VERSION_ID || null,
  };
}

const USABLE_URI = /^(https?|file):/;

/** One-line sources: `deb [opt=val …] uri suite component…`; comments and bad lines skipped. */
export function parseOneLineSources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const type = line.split(/\s+/, 1)[0]!;
    if (type !== 'deb' && type !== 'deb-src') continue;
    line = line.slice(type.length).trim();
    let signedBy: string | null = null;
    const opts = /^\[([^\]]*)\]\s*/.exec(line);
    if (opts) {
      for (const o of opts[1]!.trim().split(/\s+/)) {
        const [k, v] = o.split('=', 2);
        if (k === 'signed-by' && v?.startsWith('/')) signedBy = v;
      }
      line = line.slice(opts[0].length);
    }
    const [uri, suite, ...components] = line.split(/\s+/);
    if (!uri || !suite) continue;
    out.push({ type, uri: uri.replace(/\/+$/, ''), suite, components, signedBy, file });
  }
  return out;
}

/** deb822 sources: stanzas separated by blank lines, `Field: value` with indented continuations. */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields: Record<string, string> = {};
    let last: string | null = null;
    for (const raw of stanza.split('\n')) {
      if (/^\s*#/.test(raw) || !raw.trim()) continue;
      if (/^\s/.test(raw) && last) {
        fields[last] += ` ${raw.trim()}`;
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields[last] = m[2]!.trim();
    }
    if (/^(no|false|0)$/i.test(fields.enabled ?? '')) continue;
    const words = (k: string) => (fields[k] ?? '').split(/\s+/).filter(Boolean);
    const signed = fields['signed-by']?.trim();
    // Signed-By may embed a whole key block: only a file path is usable by debootstrap.
    const signedBy = signed && /^\/\S+$/.test(signed) ? signed : null;
    for (const type of words('types')) {
      for (const uri of words('uris')) {
        for (const suite of words('suites')) out.push({ type, uri: uri.replace(/\/+$/, ''), suite, components: words('components'), signedBy, file });
      }
    }
  }
  return out;
}

/**
 * The host's main Debian archive for `codename`: the first binary source whose suite is exactly
 * the codename (not -security/-updates/-backports, not a third party's `nodistro`), over http(s)
 * or file. Its -updates suite and the security archive are kept when the host has them.
 */
export function pickDebianMirror(sources: AptSource[], codename: string): DebianMirror {
  const usable = sources.filter((s) => s.type === 'deb' && USABLE_URI.test(s.uri));
  const main = usable.find((s) => s.suite === codename && !/security/.test(s.uri));
  const sec = usable.find((s) => s.suite === `${codename}-security` || (s.suite === `${codename}/updates` && /security/.test(s.uri)));
  if (!main) {
    return {
      uri: DEFAULT_DEBIAN_MIRROR,
      components: ['main'],
      updates: true,
      security: { uri: sec?.uri ?? DEFAULT_DEBIAN_SECURITY, components: ['main'] },
      keyring: null,
      note: `no apt source of this host serves Debian "${codename}" over http(s) or file; using ${DEFAULT_DEBIAN_MIRROR}`,
    };
  }
  const components = main.components.length ? main.components : ['main'];
  return {
    uri: main.uri,
    components,
    updates: usable.some((s) => s.uri === main.uri && s.suite === `${codename}-updates`),
    security: sec ? { uri: sec.uri, components: sec.components.length ? sec.components : ['main'] } : null,
    keyring: main.signedBy,
    note: null,
  };
}

/** The image's /etc/apt/sources.list: the same archives and suites as the host, for `codename`. */
export function renderSourcesList(mirror: DebianMirror, codename: string): string {
  const comps = mirror.components.join(' ');
  const lines = [`deb ${mirror.uri} ${codename} ${comps}`];
  if (mirror.updates) lines.push(`deb ${mirror.uri} ${codename}-updates ${comps}`);
  if (mirror.security) lines.push(`deb ${mirror.security.uri} ${codename}-security ${mirror.security.components.join(' ')}`);
  return `# Written by Slipway (slipway base-image create debian): the host's apt mirror.\n${lines.join('\n')}\n`;
}

export async function readHostOsRelease(file = '/etc/os-release'): Promise<OsRelease> {
  try {
    return parseOsRelease(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SlipwayError('SLW_HOST_MISSING', `cannot read ${file}: the Debian base image is built on a Debian host (${(err as Error).message})`);
  }
}

/** Every apt source of the host: /etc/apt/sources.list, then sources.list.d/*.list and *.sources (sorted, as apt reads them). */
export async function readHostAptSources(root = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = path.join(root, 'sources.list');
  const text = await readFile(main, 'utf8').catch(() => null);
  if (text !== null) out.push(...parseOneLineSources(text, main));
  const dir = path.join(root, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith('.list')) out.push(...parseOneLineSources(await readFile(file, 'utf8').catch(() => ''), file));
    else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(await readFile(file, 'utf8').catch(() => ''), file));
  }
  return out;
}
