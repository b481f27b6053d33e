/**
 * The shadow evidence the promotion rules read (spec §6, issue 13 item 2): `shadow.evidence` gives
 * Compare what a `shadow` rule was judged on, so a verdict links to it. Its own file so the map
 * only gains one entry.
 */
import { z } from 'zod';
import { ShadowDivergenceSchema } from './schemas.js';

export const ShadowEvidenceSchema = z.object({
  /** `policy@label` of the version that served in the shadow slot. */
  candidate: z.string(),
  /** The primary it was compared with (the gate's baseline; null: any primary). */
  baseline: z.string().nullable(),
  /** False when no shadow session of `candidate` against `baseline` was ever recorded. */
  recorded: z.boolean(),
  requests: z.number().int().nonnegative(),
  /** Shadow answers that failed (each makes the divergence infinite: no usable action). */
  errors: z.number().int().nonnegative(),
  /** Largest max-abs difference from the primary; null when infinite (a failed shadow answer). */
  maxDivergence: z.number().nullable(),
  /** Serving sessions summed. */
  sessions: z.number().int().nonnegative(),
  updatedAt: z.string().nullable(),
  /** The live divergence when `candidate` is in the shadow slot of this server now. */
  live: ShadowDivergenceSchema.nullable(),
});
export type ShadowEvidenceView = z.infer<typeof ShadowEvidenceSchema>;

export const shadowMethods = {
  /** The stored shadow evidence of `candidate` against `baseline` (default: its policy's production version): what `shadow` rules read. */
  'shadow.evidence': {
    input: z.object({ candidate: z.string().min(1).max(300), baseline: z.string().min(1).max(300).optional() }).strict(),
    output: ShadowEvidenceSchema,
  },
} as const;
