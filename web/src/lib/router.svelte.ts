/**
 * Client-side routes on the History API (the server answers index.html for any path).
 *   /                                     overview
 *   /p/:project/:env/:service             service page
 *   /backups[/:project/:env]              backups (every environment, or one)
 *   /alerts  /servers  /certificates  /audit  /tokens  the other pages
 */
export type Route =
  | { page: 'overview' }
  | { page: 'service'; project: string; env: string; service: string }
  | { page: 'backups'; project: string | null; env: string | null }
  | { page: 'alerts' }
  | { page: 'servers' }
  | { page: 'certificates' }
  | { page: 'audit' }
  | { page: 'tokens' }
  | { page: 'not-found'; path: string };

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'p' && parts.length === 4) return { page: 'service', project: parts[1]!, env: parts[2]!, service: parts[3]! };
  if (parts[0] === 'backups' && parts.length === 1) return { page: 'backups', project: null, env: null };
  if (parts[0] === 'backups' && parts.length === 3) return { page: 'backups', project: parts[1]!, env: parts[2]! };
  if (parts.length === 1 && (parts[0] === 'alerts' || parts[0] === 'servers' || parts[0] === 'certificates' || parts[0] === 'audit' || parts[0] === 'tokens')) return { page: parts[0] };
  return { page: 'not-found', path };
}

export function servicePath(project: string, env: string, service: string): string {
  return `/p/${[project, env, service].map(encodeURIComponent).join('/')}`;
}

export function backupsPath(project: string, env: string): string {
  return `/backups/${[project, env].map(encodeURIComponent).join('/')}`;
}

export const router = $state<{ route: Route }>({ route: parseRoute(location.pathname) });

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  router.route = parseRoute(path);
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  router.route = parseRoute(location.pathname);
});

/** Plain links stay links (middle-click, copy address); a normal click routes in the app. */
export function link(node: HTMLAnchorElement): void {
  node.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = node.getAttribute('href');
    if (!href?.startsWith('/')) return;
    ev.preventDefault();
    navigate(href);
  });
}
