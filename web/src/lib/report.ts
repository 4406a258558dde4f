/** What a page does with a failed call: a lost session goes back to sign-in, anything else is a toast. */
import { ApiError, errorText } from './api';
import { sessionLost } from './session.svelte';
import { toast } from './toasts.svelte';

export function reportError(err: unknown, what?: string): void {
  if (err instanceof ApiError && err.status === 401) {
    sessionLost();
    toast('info', 'Your session ended: sign in again.');
    return;
  }
  toast('error', what ? `${what}: ${errorText(err)}` : errorText(err));
}
