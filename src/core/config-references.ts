/**
 * Rules of slipway.yml that span fields: names shared by services and accessories, and
 * `uses:` (the accessories named exist; the variables they give are distinct and do not
 * clash with the service's `env`). Also turns `uses:` into ServiceUse[].
 */
import { ACCESSORY_KINDS, isBuiltInKind } from './accessory-kinds';
import type { AccessoryKind, ServiceUse } from './config';
import type { ProjectConfigWritten } from './config-schema';
import type { ErrorDetail } from './errors';

type WrittenUses = NonNullable<ProjectConfigWritten['services'][string]['uses']>;
interface AccessoryRef {
  kind: AccessoryKind;
  port?: number;
}

/** `uses:` as entries: the accessory, where it was written (relative path), the variable name override. */
function useEntries(uses: WrittenUses | undefined): Array<{ accessory: string; at: string; url: string | undefined }> {
  if (!uses) return [];
  if (Array.isArray(uses)) return uses.map((accessory, i) => ({ accessory, at: String(i), url: undefined }));
  return Object.entries(uses).map(([accessory, spec]) => ({ accessory, at: accessory, url: spec?.url ?? undefined }));
}

/** The variables a use gives: role → name (the kind's defaults, `url` overridden). */
function useVars(kind: AccessoryKind, url: string | undefined): Record<string, string> {
  const defaults = isBuiltInKind(kind) ? ACCESSORY_KINDS[kind].vars : {};
  return url === undefined ? { ...defaults } : { ...defaults, url };
}

/** Uses naming accessories that do not exist, reported at `<at>.<index|name>`. */
export function unknownUses(uses: WrittenUses | undefined, accessories: Record<string, unknown>, at: string): ErrorDetail[] {
  const known = Object.keys(accessories);
  return useEntries(uses)
    .filter((u) => !(u.accessory in accessories))
    .map((u) => ({
      path: `${at}.${u.at}`,
      message: `no accessory "${u.accessory}" is defined under accessories (${known.length ? `defined: ${known.join(', ')}` : 'none is defined'})`,
    }));
}

export function referenceProblems(w: ProjectConfigWritten): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const accessories: Record<string, AccessoryRef> = w.accessories ?? {};
  for (const name of Object.keys(accessories)) {
    if (name in w.services) {
      errors.push({ path: `accessories.${name}`, message: `is also the name of a service: services and accessories share the environment network's names, so rename one` });
    }
  }
  for (const [svc, s] of Object.entries(w.services)) {
    const at = `services.${svc}.uses`;
    const missing = unknownUses(s.uses, accessories, at);
    errors.push(...missing);
    if (missing.length) continue;
    const given = new Map<string, string>();
    for (const u of useEntries(s.uses)) {
      const a = accessories[u.accessory]!;
      const port = isBuiltInKind(a.kind) ? ACCESSORY_KINDS[a.kind].port : a.port;
      if (u.url !== undefined && port === undefined) {
        errors.push({ path: `${at}.${u.at}.url`, message: `accessory "${u.accessory}" has no port, so there is no address to give in ${u.url} (set accessories.${u.accessory}.port)` });
        continue;
      }
      for (const v of Object.values(useVars(a.kind, u.url))) {
        const other = given.get(v);
        if (other !== undefined) {
          errors.push({ path: `${at}.${u.at}`, message: `gives ${v}, which "${other}" gives too: name one of them otherwise, e.g. uses: { ${u.accessory}: { url: ${u.accessory.toUpperCase().replace(/-/g, '_')}_URL } }` });
        } else if (v in s.env) {
          errors.push({ path: `${at}.${u.at}`, message: `gives ${v}, which services.${svc}.env sets too: remove it from env, or name the variable otherwise (uses: { ${u.accessory}: { url: OTHER_NAME } })` });
        }
        given.set(v, u.accessory);
      }
    }
  }
  return errors;
}

/** A service's `uses:` (validated by referenceProblems) → ServiceUse[]. */
export function normalizeUses(uses: WrittenUses | undefined, accessories: Record<string, { kind: AccessoryKind }>): ServiceUse[] {
  return useEntries(uses).map((u) => {
    const kind = accessories[u.accessory]!.kind;
    return { accessory: u.accessory, kind, vars: useVars(kind, u.url) };
  });
}
