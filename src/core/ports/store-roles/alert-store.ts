/** Store role: alerts (one row per firing, from start to end) and the silences that mute them. */
import type { AlertRecord, AlertSilence, NewAlert, NewSilence } from '../../alert-records';
import type { NewOutboxEvent } from './outbox-store';

export interface AlertStore {
  /** Records a firing alert, with its `alert.firing` event (made from the stored alert, id included; null: silenced) in the same transaction. */
  openAlert(a: NewAlert, eventFor: ((stored: AlertRecord) => NewOutboxEvent) | null): Promise<AlertRecord>;
  /** Ends a firing alert with its newest value and words, with its `alert.resolved` event (null: silenced); false when it was not firing. */
  resolveAlert(id: number, end: { endedAt: string; value: number | null; summary: string }, event: NewOutboxEvent | null): Promise<boolean>;
  /** The newest measured value and its words, while it fires. */
  updateAlertValue(id: number, value: number | null, summary: string): Promise<void>;
  /** Firing alerts (and, with `all`, resolved ones too), newest first; a project's only when given. */
  listAlerts(q: { all?: boolean; project?: string; limit?: number }): Promise<AlertRecord[]>;
  createSilence(s: NewSilence): Promise<AlertSilence>;
  /** Silences still in force at `now` (ISO), soonest to end first. */
  listSilences(now: string): Promise<AlertSilence[]>;
  getSilence(id: number): Promise<AlertSilence | null>;
  deleteSilence(id: number): Promise<boolean>;
  /** Deletes resolved alerts that ended before `before` and silences that ended before it (ISO); returns how many. */
  pruneAlerts(before: string): Promise<number>;
}
