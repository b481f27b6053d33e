import { auditIdentity } from '../platform/call-context.js';
import type { Db } from './database.js';

/**
 * Appends one audit row. Inside an API call the row's `actor` is the authenticated caller
 * (`desktop`, `token:<label>`) and the name the caller gave goes to `claimed_by`; elsewhere (the
 * local CLI, the engine's own timers) `actor` is what the code passed.
 */
export function insertAudit(db: Db, at: string, actor: string, action: string, subject: string, detail: unknown): number {
  const who = auditIdentity(actor);
  return Number(
    db.prepare('INSERT INTO audit_log (at, actor, action, subject, detail, claimed_by) VALUES (?, ?, ?, ?, ?, ?)').run(at, who.actor, action, subject, JSON.stringify(detail), who.claimedBy).lastInsertRowid,
  );
}
