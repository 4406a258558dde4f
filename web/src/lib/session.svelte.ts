/** Who is signed in: null until GET /api/v1/session answers, or after signing out. */
import type { SessionView } from '../../../src/core/contract/views';
import { api, ApiError } from './api';

export const session = $state<{ current: SessionView | null; checked: boolean }>({ current: null, checked: false });

function adopt(s: SessionView | null): void {
  session.current = s;
  session.checked = true;
  api.setCsrfToken(s?.csrfToken);
}

/** Picks up an existing session cookie (page reload). */
export async function restoreSession(): Promise<void> {
  try {
    adopt((await api.session()).session);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) adopt(null);
    else throw err;
  }
}

export async function signIn(body: { user: string; password: string } | { token: string }): Promise<void> {
  adopt((await api.signIn(body)).session);
}

export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    adopt(null);
  }
}

/** A call answered 401 (session expired or revoked): back to the sign-in page. */
export function sessionLost(): void {
  adopt(null);
}

export function canDeploy(): boolean {
  return session.current?.scope === 'deploy' || session.current?.scope === 'admin';
}

export function isAdmin(): boolean {
  return session.current?.scope === 'admin';
}
