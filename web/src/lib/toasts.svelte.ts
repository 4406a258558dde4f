/** Outcome messages in the corner; errors stay until dismissed, others fade after 5 s. */
export type ToastKind = 'success' | 'error' | 'info';
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

export const toasts = $state<Toast[]>([]);
let next = 1;

export function toast(kind: ToastKind, text: string): void {
  const id = next++;
  toasts.push({ id, kind, text });
  if (kind !== 'error') setTimeout(() => dismiss(id), 5000);
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}
