/**
 * The images a Dockerfile reads besides its own stages: `FROM image`, `COPY --from=image`,
 * `RUN --mount=…,from=image`, the same inside `ONBUILD`, and a `# syntax=` frontend. A
 * build on behalf of a project-restricted caller may only read images that caller may
 * deploy (engine/image-policy.ts), or one could copy another project's files.
 *
 * It follows Docker's parser closely enough to be safe rather than complete: line
 * continuations (the `# escape=` directive's character), comments, case-insensitive
 * instructions, stage names (`AS name`, `--from=0`) of earlier stages, and `ARG`s declared
 * before the first FROM (build args override their defaults). A reference that still holds
 * a variable it cannot resolve is returned with `unresolved` so the caller refuses it.
 * Heredocs (BuildKit) are read both as BuildKit does and as the classic builder does (which
 * knows no heredocs): the union of both readings is returned, so a heredoc body can neither
 * hide an instruction nor forge a stage name.
 */

export type ImageReferenceKind = 'FROM' | 'COPY --from' | 'RUN --mount from' | 'syntax';

export interface DockerfileImageRef {
  /** The reference after ARG substitution (as written when `unresolved`). */
  ref: string;
  /** 1-based line where the instruction starts. */
  line: number;
  kind: ImageReferenceKind;
  /** Why the reference cannot be known before the build (a variable without a known value); absent when resolved. */
  unresolved?: string;
}

/** A variable's state while expanding: a known value, declared but unset, or not knowable here. */
type Var = { state: 'set'; value: string } | { state: 'unset' } | { state: 'unknown' };
type Scope = (name: string) => Var;

interface Logical {
  text: string;
  line: number;
}

/** Every external image `text` reads, given the build args the build passes (`build.args`). */
export function dockerfileImages(text: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileImageRef[] {
  const { escape, syntax, lines, bodyStart } = directives(text);
  const seen = new Set<string>();
  const out: DockerfileImageRef[] = [];
  const add = (r: DockerfileImageRef) => {
    const key = `${r.line}\0${r.kind}\0${r.ref}\0${r.unresolved ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(r);
  };
  if (syntax) add({ ref: syntax.value, line: syntax.line, kind: 'syntax' });
  for (const heredocs of [true, false]) {
    for (const r of imagesOf(logicalLines(lines, bodyStart, escape, heredocs), escape, buildArgs)) add(r);
  }
  return out.sort((a, b) => a.line - b.line);
}

const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);

/** Parser directives at the very top; the first other line (even an empty one) ends them. */
function directives(text: string): { escape: string; syntax: { value: string; line: number } | null; lines: string[]; bodyStart: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let syntax: { value: string; line: number } | null = null;
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!.trim());
    const key = m?.[1]!.toLowerCase();
    if (!m || !key || !KNOWN_DIRECTIVES.has(key)) break;
    if (key === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
    if (key === 'syntax') syntax = { value: m[2]!, line: i + 1 };
  }
  // Directive lines are comments to the instruction parser: start after them.
  return { escape, syntax, lines, bodyStart: i };
}

const isComment = (l: string) => l.trimStart().startsWith('#');

/** Joins continuation lines (dropping comment and empty lines inside them); skips heredoc bodies when `heredocs`. */
function logicalLines(lines: string[], start: number, escape: string, heredocs: boolean): Logical[] {
  const cont = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const out: Logical[] = [];
  let i = start;
  while (i < lines.length) {
    const line = i + 1;
    let raw = lines[i++]!.trimStart();
    if (isComment(raw)) continue;
    let ended = !cont.test(raw);
    let text = ended ? raw : raw.replace(cont, '');
    while (!ended && i < lines.length) {
      raw = lines[i++]!;
      if (isComment(raw) || raw.trim() === '') continue;
      ended = !cont.test(raw);
      text += ended ? raw : raw.replace(cont, '');
    }
    if (text.trim() === '') continue;
    out.push({ text, line });
    if (!heredocs) continue;
    const word = /^\s*(\S+)/.exec(text)?.[1]?.toLowerCase();
    const instruction = word === 'onbuild' ? /^\s*\S+\s+(\S+)/.exec(text)?.[1]?.toLowerCase() : word;
    if (instruction !== 'run' && instruction !== 'copy' && instruction !== 'add') continue;
    for (const h of heredocNames(text)) {
      while (i < lines.length) {
        const body = lines[i++]!;
        if ((h.chomp ? body.replace(/^\t+/, '') : body) === h.name) break;
      }
    }
  }
  return out;
}

/** Heredoc markers as BuildKit finds them: shell words (quotes kept) of the form `[n]<<[-]name`. */
function heredocNames(line: string): Array<{ name: string; chomp: boolean }> {
  const out: Array<{ name: string; chomp: boolean }> = [];
  for (const word of rawWords(line)) {
    const m = /^\d*<<(-?)([^<]*)$/.exec(word);
    if (!m) continue;
    const name = m[2]!.replace(/["']/g, '');
    if (name) out.push({ name, chomp: m[1] === '-' });
  }
  return out;
}

/** Whitespace-separated words; quoted runs stay inside one word, quotes kept. */
function rawWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      word += ch;
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      continue;
    }
    if (/\s/.test(ch)) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '\\' && i + 1 < line.length) {
      word += ch + line[++i];
      continue;
    }
    word += ch;
  }
  if (word) words.push(word);
  return words;
}

/** Walks the instructions of one reading of the file. */
function imagesOf(lines: Logical[], escape: string, buildArgs: Readonly<Record<string, string>>): DockerfileImageRef[] {
  const out: DockerfileImageRef[] = [];
  /** ARGs declared before the first FROM: the only variables FROM may use. */
  const meta = new Map<string, Var>();
  const metaScope: Scope = (name) => meta.get(name) ?? { state: 'unknown' };
  /** Names (lower case) of the stages before the current one, and how many stages began so far. */
  const stages = new Set<string>();
  let stageCount = 0;
  /** The current stage's name: a stage cannot read itself (Docker would take the name as an image), so it counts from the next FROM on. */
  let current: string | null = null;
  let stage = new Map<string, Var>();
  const stageScope: Scope = (name) => stage.get(name) ?? { state: 'unknown' };

  const external = (raw: string, line: number, kind: ImageReferenceKind, scope: Scope, stageRefs: boolean) => {
    const r = expandWord(raw, scope, escape);
    if ('unresolved' in r) return void out.push({ ref: raw, line, kind, unresolved: r.unresolved });
    const value = r.value;
    if (value === '') return void out.push({ ref: raw, line, kind, unresolved: `"${raw}" expands to nothing` });
    if (stageRefs && stages.has(value.toLowerCase())) return;
    if (stageRefs && kind !== 'FROM' && /^\d+$/.test(value) && Number(value) < stageCount - 1) return;
    if (kind === 'FROM' && value.toLowerCase() === 'scratch') return;
    out.push({ ref: value, line, kind });
  };

  const instruction = (text: string, line: number, onbuild: boolean) => {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(text);
    if (!m) return;
    const name = m[1]!.toLowerCase();
    const rest = m[2]!;
    if (name === 'onbuild') {
      // Runs in the build of an image FROM this one: its stages are not ours, nor its variables.
      if (!onbuild) instruction(rest, line, true);
      return;
    }
    const { flags, args } = extractFlags(rest);
    if (name === 'from' && !onbuild) {
      const words = args.trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) return;
      if (current) stages.add(current);
      external(words[0]!, line, 'FROM', metaScope, true);
      stageCount++;
      current = words.length >= 3 && words[1]!.toLowerCase() === 'as' ? words[2]!.toLowerCase() : null;
      stage = new Map();
      return;
    }
    if (name === 'arg') {
      for (const decl of argDeclarations(args)) {
        const scope = onbuild ? undefined : stageCount === 0 ? meta : stage;
        if (!scope) continue;
        scope.set(decl.name, argValue(decl, buildArgs, stageCount === 0 ? metaScope : stageScope, stageCount === 0 ? undefined : meta.get(decl.name), escape));
      }
      return;
    }
    if (name === 'env' && !onbuild) {
      // ENV values are not followed: a --from through one is refused as unknown.
      for (const n of envNames(args)) stage.set(n, { state: 'unknown' });
      return;
    }
    const scope: Scope = onbuild ? () => ({ state: 'unknown' }) : stageScope;
    for (const f of flags) {
      if ((name === 'copy' || name === 'add') && f.name === 'from') external(f.value, line, 'COPY --from', scope, !onbuild);
      if (name === 'run' && f.name === 'mount') {
        for (const field of csvFields(f.value)) {
          const eq = field.indexOf('=');
          if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'from') external(field.slice(eq + 1), line, 'RUN --mount from', scope, !onbuild);
        }
      }
    }
  };

  for (const l of lines) instruction(l.text, l.line, false);
  return out;
}

interface ArgDecl {
  name: string;
  /** The default as written (still to be expanded), or undefined without one. */
  value?: string;
}

/** `ARG a`, `ARG a=1 b="two words"`. */
function argDeclarations(args: string): ArgDecl[] {
  return shellSplit(args).map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? { name: w } : { name: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

/** A build arg wins over the default; a stage's `ARG x` without default takes the global one. */
function argValue(decl: ArgDecl, buildArgs: Readonly<Record<string, string>>, scope: Scope, global: Var | undefined, escape: string): Var {
  if (Object.prototype.hasOwnProperty.call(buildArgs, decl.name)) return { state: 'set', value: buildArgs[decl.name]! };
  if (decl.value === undefined) return global ?? { state: 'unset' };
  const r = expandWord(decl.value, scope, escape);
  return 'unresolved' in r ? { state: 'unknown' } : { state: 'set', value: r.value };
}

/** Names ENV sets: `ENV a=1 b=2` or `ENV a value`. */
function envNames(args: string): string[] {
  const words = shellSplit(args);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) return [words[0]!];
  return words.map((w) => w.split('=')[0]!).filter(Boolean);
}

/** Words split on whitespace outside quotes; quotes are kept (expandWord removes them). */
function shellSplit(s: string): string[] {
  return rawWords(s);
}

/** Fields of a `--mount` value: comma-separated, double quotes around a field allowed. */
function csvFields(value: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** `--name=value` words at the start of an instruction's arguments (Docker's extractBuilderFlags: quotes removed). */
function extractFlags(line: string): { flags: Array<{ name: string; value: string }>; args: string } {
  const flags: Array<{ name: string; value: string }> = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos]!)) pos++;
    if (!line.startsWith('--', pos)) break;
    let word = '';
    let quote = '';
    for (; pos < line.length; pos++) {
      const ch = line[pos]!;
      if (!quote && /\s/.test(ch)) break;
      if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        continue;
      }
      if (quote && ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\' && pos + 1 < line.length) {
        word += line[++pos];
        continue;
      }
      word += ch;
    }
    if (word === '--') break;
    const eq = word.indexOf('=');
    flags.push({ name: (eq < 0 ? word.slice(2) : word.slice(2, eq)).toLowerCase(), value: eq < 0 ? '' : word.slice(eq + 1) });
  }
  return { flags, args: line.slice(pos) };
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Shell-like word processing as Docker does it for FROM and flags: quotes removed, the escape
 * character, `$X`, `${X}`, `${X:-word}`, `${X-word}`, `${X:+word}`, `${X+word}`. A variable
 * without a known value (or any other form) makes the word unresolved.
 */
function expandWord(word: string, scope: Scope, escape: string): { value: string } | { unresolved: string } {
  let out = '';
  let i = 0;
  const variable = (): string | { unresolved: string } => {
    // at word[i] === '$'
    const next = word[i + 1];
    if (next === '{') {
      const close = matchingBrace(word, i + 1);
      if (close < 0) return { unresolved: `unterminated "\${" in "${word}"` };
      const inner = word.slice(i + 2, close);
      i = close + 1;
      const name = NAME_RE.exec(inner)?.[0];
      if (!name) return { unresolved: `"\${${inner}}" is not a variable Slipway can resolve` };
      const op = /^(:?[-+])/.exec(inner.slice(name.length))?.[1];
      const v = scope(name);
      if (v.state === 'unknown') return { unresolved: `the variable ${name} has no value known before the build (declare it with ARG and a default, or set it in build.args)` };
      if (!op) {
        if (inner !== name) return { unresolved: `"\${${inner}}" uses a form Slipway does not resolve` };
        return v.state === 'set' ? v.value : { unresolved: `the variable ${name} is declared without a value (give its ARG a default or set it in build.args)` };
      }
      const alt = inner.slice(name.length + op.length);
      const present = v.state === 'set' && (op.startsWith(':') ? v.value !== '' : true);
      const useAlt = op.endsWith('-') ? !present : present;
      if (!useAlt) return op.endsWith('-') ? (v as { value: string }).value : '';
      const r = expandWord(alt, scope, escape);
      return 'unresolved' in r ? r : r.value;
    }
    const name = next === undefined ? undefined : NAME_RE.exec(word.slice(i + 1))?.[0];
    if (!name) {
      i++;
      return '$';
    }
    i += 1 + name.length;
    const v = scope(name);
    if (v.state === 'set') return v.value;
    return { unresolved: v.state === 'unset' ? `the variable ${name} is declared without a value (give its ARG a default or set it in build.args)` : `the variable ${name} has no value known before the build (declare it with ARG and a default, or set it in build.args)` };
  };
  while (i < word.length) {
    const ch = word[i]!;
    if (ch === escape) {
      if (i + 1 < word.length) out += word[i + 1];
      i += 2;
      continue;
    }
    if (ch === "'") {
      const end = word.indexOf("'", i + 1);
      out += end < 0 ? word.slice(i + 1) : word.slice(i + 1, end);
      i = end < 0 ? word.length : end + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < word.length && word[i] !== '"') {
        const c = word[i]!;
        if (c === escape && i + 1 < word.length && ['"', '$', escape].includes(word[i + 1]!)) {
          out += word[i + 1];
          i += 2;
        } else if (c === '$') {
          const v = variable();
          if (typeof v !== 'string') return v;
          out += v;
        } else {
          out += c;
          i++;
        }
      }
      i++;
      continue;
    }
    if (ch === '$') {
      const v = variable();
      if (typeof v !== 'string') return v;
      out += v;
      continue;
    }
    out += ch;
    i++;
  }
  return { value: out };
}

/** Index of the `}` closing the `{` at `open` (nested `${…}` counted), or -1. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}
