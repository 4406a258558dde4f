import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerfileImages } from './dockerfile-images';

/** `line kind ref` (or `line kind ref ?` when unresolved) of every external image. */
const refs = (text: string, args: Record<string, string> = {}) => dockerfileImages(text, args).map((r) => `${r.line} ${r.kind} ${r.ref}${r.unresolved ? ' ?' : ''}`);

test('FROM with --platform and AS; later stages named or numbered are not images; scratch is none', () => {
  const text = [
    'FROM --platform=linux/amd64 slipway/node:20 AS build',
    'RUN make',
    'FROM scratch',
    'COPY --from=build /app /app',
    'COPY --from=0 /x /x',
    'FROM build AS again',
    'FROM Scratch',
    'COPY --from=Again /a /a',
    'COPY --from=other/image:1 /etc/passwd /p',
  ].join('\n');
  assert.deepEqual(refs(text), ['1 FROM slipway/node:20', '9 COPY --from other/image:1']);
});

test('an index or name that is no earlier stage is an image (Docker reads it as one)', () => {
  assert.deepEqual(refs('FROM a:1\nCOPY --from=1 /x /x\nCOPY --from=7 /x /x'), ['1 FROM a:1', '2 COPY --from 1', '3 COPY --from 7']);
  // A stage naming itself, or a stage defined later, is not a stage yet.
  assert.deepEqual(refs('FROM a:1 AS me\nCOPY --from=me /x /x\nCOPY --from=later /y /y\nFROM b:1 AS later'), ['1 FROM a:1', '2 COPY --from me', '3 COPY --from later', '4 FROM b:1']);
  // FROM of an image named like the stage it defines reads the image.
  assert.deepEqual(refs('FROM foo AS foo\nFROM foo'), ['1 FROM foo']);
});

test('instructions are case-insensitive; comments and empty lines are skipped; line numbers are the instruction start', () => {
  const text = '# a comment\n\nfrom  other:2   as   b\n  # indented comment\nrun --mount=type=bind,from=shop:1,target=/s cat /s/x\nFrom scratch\ncopy --FROM=B /a /a';
  assert.deepEqual(refs(text), ['3 FROM other:2', '5 RUN --mount from shop:1']);
});

test('line continuations join without a space, skipping comment and empty lines inside', () => {
  const text = 'FROM slipway/\\\n# hidden\n\nnode:20 \\\n  AS base\nCOPY \\\n  --from=evil:1 \\\n  /a /b';
  assert.deepEqual(refs(text), ['1 FROM slipway/node:20', '6 COPY --from evil:1']);
});

test('the escape directive changes the continuation character; directives end at the first other line', () => {
  const text = '# escape=`\nFROM a:1 `\n  AS x\nCOPY --from=b:2 `\n  C:\\src C:\\dst';
  assert.deepEqual(refs(text), ['2 FROM a:1', '4 COPY --from b:2']);
  // After a comment, "# escape=`" is a comment: the backslash continues lines.
  assert.deepEqual(refs('# hello\n# escape=`\nFROM a:1\\\n:2'), ['3 FROM a:1:2']);
});

test('ARG before FROM: defaults, build args override, chained defaults, ${X:-d} and quotes', () => {
  const text = 'ARG BASE=slipway/node:20\nARG TAG=1\nARG IMG="shop-${TAG}"\nFROM ${BASE}\nFROM $IMG AS x\nFROM "${MISSING:-slipway/static:latest}"';
  // MISSING is not declared: Docker would expand it to "" (or a BuildKit builtin), so it is not known here.
  assert.deepEqual(refs(text), ['4 FROM slipway/node:20', '5 FROM shop-1', '6 FROM "${MISSING:-slipway/static:latest}" ?']);
  assert.deepEqual(refs(text, { BASE: 'slipway/other-web:production-v1', TAG: '9' }).slice(0, 2), ['4 FROM slipway/other-web:production-v1', '5 FROM shop-9']);
});

test('a reference whose variable cannot be known is returned unresolved', () => {
  // Undeclared (Docker would use an empty string, or a builtin BuildKit arg).
  assert.deepEqual(refs('FROM ${TARGETPLATFORM}/x'), ['1 FROM ${TARGETPLATFORM}/x ?']);
  // Declared without a default and no build arg.
  assert.deepEqual(refs('ARG BASE\nFROM $BASE'), ['2 FROM $BASE ?']);
  assert.deepEqual(refs('ARG BASE\nFROM $BASE', { BASE: 'a:1' }), ['2 FROM a:1']);
  // A build arg for an ARG that was not declared does not reach FROM.
  assert.deepEqual(refs('FROM $BASE', { BASE: 'a:1' }), ['1 FROM $BASE ?']);
  // Forms Slipway does not evaluate.
  assert.deepEqual(refs('ARG B=a\nFROM ${B/a/b}'), ['2 FROM ${B/a/b} ?']);
  // A stage ARG without default takes the global one; ENV is not followed.
  assert.deepEqual(refs('ARG S=st\nFROM a:1 AS st\nFROM a:1\nARG S\nCOPY --from=$S /x /x\nENV T=st\nCOPY --from=$T /y /y'), ['2 FROM a:1', '3 FROM a:1', '7 COPY --from $T ?']);
  // An ARG after FROM is no meta arg for the next FROM.
  assert.deepEqual(refs('FROM a:1\nARG N=b:1\nFROM $N'), ['1 FROM a:1', '3 FROM $N ?']);
});

test('the ${X:-d}, ${X-d}, ${X:+d} forms and the escape character', () => {
  assert.deepEqual(refs('ARG E=\nFROM ${E:-d:1}\nFROM ${E-x}y:1\nFROM ${E:+no}z:1\nFROM \\$E'), ['2 FROM d:1', '3 FROM y:1', '4 FROM z:1', '5 FROM $E']);
  assert.deepEqual(refs("FROM 'a:1'"), ['1 FROM a:1']);
});

test('RUN --mount from, quoted flags, several mounts; other mount types and flags are ignored', () => {
  const text = 'FROM a:1 AS s\nFROM a:1\nRUN --network=none --mount="type=cache,target=/c" --mount=type=bind,"from=b:2",target=/b --mount=from=s,target=/s true';
  assert.deepEqual(refs(text), ['1 FROM a:1', '2 FROM a:1', '3 RUN --mount from b:2']);
});

test('ONBUILD: its COPY --from and RUN --mount are images of the child build, stage names included', () => {
  const text = 'FROM a:1 AS s\nFROM a:1\nONBUILD COPY --from=s /x /x\nonbuild RUN --mount=from=c:3 true\nONBUILD COPY --from=$V /y /y';
  assert.deepEqual(refs(text), ['1 FROM a:1', '2 FROM a:1', '3 COPY --from s', '4 RUN --mount from c:3', '5 COPY --from $V ?']);
});

test('a syntax directive names the frontend image', () => {
  assert.deepEqual(refs('# syntax=docker/dockerfile:1\nFROM a:1'), ['1 syntax docker/dockerfile:1', '2 FROM a:1']);
});

test('heredocs: neither crash nor hide an instruction nor forge a stage name', () => {
  const heredoc = 'FROM a:1\nRUN <<EOF\nFROM b:2 AS fake\nEOF\nCOPY --from=fake /x /x\nCOPY <<-"END" /f\n\tfrom python import x\n\tEND\nRUN python3 <<EOT\nprint(1)\nEOT';
  const out = refs(heredoc);
  // BuildKit reads `fake` as an image (the FROM is heredoc text); the classic builder reads the FROM line.
  assert.ok(out.includes('5 COPY --from fake'), out.join(', '));
  assert.ok(out.includes('3 FROM b:2'), out.join(', '));
  assert.ok(out.includes('1 FROM a:1'));
  // Unterminated heredoc and odd input: no crash.
  assert.deepEqual(refs('FROM a:1\nRUN <<EOF\nCOPY --from=c:1 /x /x'), ['1 FROM a:1', '3 COPY --from c:1']);
  for (const odd of ['', '\\', 'FROM', 'FROM ${', 'COPY --from', 'RUN --mount=', 'ARG', 'ONBUILD', 'ONBUILD ONBUILD COPY --from=x /a /a', '# escape=`\n`', 'FROM $', 'FROM "${A:-${B:-c}}"']) {
    assert.doesNotThrow(() => dockerfileImages(odd), odd);
  }
  assert.deepEqual(refs('FROM "${A:-${B:-c:1}}"'), ['1 FROM "${A:-${B:-c:1}}" ?']);
  assert.deepEqual(refs('ARG A\nARG B\nFROM "${A:-${B:-c:1}}"'), ['3 FROM c:1']);
});

test('Windows line ends and a byte-order mark', () => {
  assert.deepEqual(refs('\uFEFFFROM a:1 \\\r\n  AS x\r\nCOPY --from=b:1 /x /x\r\n'), ['1 FROM a:1', '3 COPY --from b:1']);
});
