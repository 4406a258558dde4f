import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DEBIAN_MIRROR, parseDeb822Sources, parseOneLineSources, parseOsRelease, pickDebianMirror, readHostAptSources, renderSourcesList } from './apt-sources';

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

test('os-release: id, codename and version, quotes removed', () => {
  const os = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n');
  assert.deepEqual(os, { id: 'debian', idLike: [], codename: 'bookworm', versionId: '12' });
  const ubuntu = parseOsRelease("ID=ubuntu\nID_LIKE='debian'\nVERSION_CODENAME=jammy\n");
  assert.equal(ubuntu.id, 'ubuntu');
  assert.deepEqual(ubuntu.idLike, ['debian']);
  assert.equal(parseOsRelease('ID=debian\n').codename, null);
});

test('deb822: every type × uri × suite, comments skipped, signed-by kept when it is a file', () => {
  const s = parseDeb822Sources(DEB822, 'debian.sources');
  assert.deepEqual(
    s.map((x) => `${x.type} ${x.uri} ${x.suite} ${x.components.join(',')} ${x.signedBy}`),
    [
      'deb http://deb.debian.org/debian bookworm main /usr/share/keyrings/debian-archive-keyring.gpg',
      'deb http://deb.debian.org/debian bookworm-updates main /usr/share/keyrings/debian-archive-keyring.gpg',
      'deb http://deb.debian.org/debian-security bookworm-security main /usr/share/keyrings/debian-archive-keyring.gpg',
    ],
  );
});

test('deb822: Enabled: no is skipped; an embedded key block is not a keyring path; continuation lines join', () => {
  const text = `Types: deb
URIs: http://mirror.example/debian
Suites: trixie
Components: main
  contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 abc
 -----END PGP PUBLIC KEY BLOCK-----

Enabled: no
Types: deb
URIs: http://off.example/debian
Suites: trixie
Components: main
`;
  const s = parseDeb822Sources(text, 'x.sources');
  assert.equal(s.length, 1);
  assert.deepEqual(s[0]!.components, ['main', 'contrib']);
  assert.equal(s[0]!.signedBy, null);
});

test('one-line: options in brackets, comments, deb-src, trailing slashes', () => {
  const s = parseOneLineSources(
    '# a comment\ndeb [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg] http://mirror.local/debian/ bookworm main contrib # trailing\ndeb-src http://mirror.local/debian bookworm main\n\ngarbage line\n',
    'sources.list',
  );
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], { type: 'deb', uri: 'http://mirror.local/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/etc/apt/keyrings/x.gpg', file: 'sources.list' });
  assert.equal(s[1]!.type, 'deb-src');
});

test('the main archive is chosen, not security, updates or a third party; -updates and security kept as the host has them', () => {
  const sources = [
    ...parseOneLineSources('deb https://deb.nodesource.com/node_20.x nodistro main\ndeb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n', 'third.list'),
    ...parseDeb822Sources(DEB822, 'debian.sources'),
  ];
  const m = pickDebianMirror(sources, 'bookworm');
  assert.equal(m.uri, 'http://deb.debian.org/debian');
  assert.deepEqual(m.components, ['main']);
  assert.equal(m.updates, true);
  assert.deepEqual(m.security, { uri: 'http://deb.debian.org/debian-security', components: ['main'] });
  assert.equal(m.keyring, '/usr/share/keyrings/debian-archive-keyring.gpg');
  assert.equal(m.note, null);
  assert.equal(
    renderSourcesList(m, 'bookworm').split('\n').filter((l) => l.startsWith('deb ')).join('\n'),
    'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main',
  );
});

test('a local mirror without -updates or security gives a sources.list with only the release', () => {
  const m = pickDebianMirror(parseOneLineSources('deb http://10.0.0.5/debian bookworm main non-free-firmware\n', 'l'), 'bookworm');
  assert.equal(m.uri, 'http://10.0.0.5/debian');
  assert.equal(m.updates, false);
  assert.equal(m.security, null);
  assert.equal(renderSourcesList(m, 'bookworm').trim().split('\n').pop(), 'deb http://10.0.0.5/debian bookworm main non-free-firmware');
});

test('another release or an unusable transport falls back to deb.debian.org with a note', () => {
  const sources = parseOneLineSources('deb cdrom:[Debian]/ bookworm main\ndeb http://mirror/debian trixie main\n', 'l');
  const m = pickDebianMirror(sources, 'bookworm');
  assert.equal(m.uri, DEFAULT_DEBIAN_MIRROR);
  assert.match(m.note ?? '', /no apt source of this host serves Debian "bookworm".*deb\.debian\.org/);
});

test('readHostAptSources reads sources.list, then *.list and *.sources in order, ignoring other files', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'slipway-apt-'));
  try {
    await mkdir(path.join(root, 'sources.list.d'));
    await writeFile(path.join(root, 'sources.list'), 'deb http://a/debian bookworm main\n');
    await writeFile(path.join(root, 'sources.list.d', 'b.sources'), 'Types: deb\nURIs: http://b/debian\nSuites: bookworm\nComponents: main\n');
    await writeFile(path.join(root, 'sources.list.d', 'c.list'), 'deb http://c/debian bookworm main\n');
    await writeFile(path.join(root, 'sources.list.d', 'd.list.disabled-by-farm'), 'deb http://d/debian bookworm main\n');
    const s = await readHostAptSources(root);
    assert.deepEqual(s.map((x) => x.uri), ['http://a/debian', 'http://b/debian', 'http://c/debian']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
