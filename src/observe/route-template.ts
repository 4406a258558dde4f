/**
 * Route templates: requests are aggregated per route, not per path, or `/users/1`,
 * `/users/2`… would each be a series. Segments that are identifiers collapse to `:id`:
 * all digits, a UUID, or a long hex string (hashes, object ids). The query string is not
 * part of the route. Anything else is kept as written (lowercase/uppercase included).
 */
const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 16+ hex digits with at least one digit: a Mongo ObjectId (24), a sha1 (40), a sha256 (64)… but not a word like `deadbeefcafebabe`-free text. */
const LONG_HEX = /^(?=[0-9a-f]*\d)[0-9a-f]{16,}$/i;
/** Longest route kept; longer paths are cut (a bounded label for the store and the API). */
export const MAX_ROUTE_LENGTH = 200;

export function routeTemplate(path: string): string {
  const q = path.search(/[?#]/);
  const bare = q >= 0 ? path.slice(0, q) : path;
  if (bare === '' || bare === '/') return '/';
  const route = bare
    .split('/')
    .map((seg) => (NUMERIC.test(seg) || UUID.test(seg) || LONG_HEX.test(seg) ? ':id' : seg))
    .join('/');
  return route.length > MAX_ROUTE_LENGTH ? route.slice(0, MAX_ROUTE_LENGTH) : route;
}
