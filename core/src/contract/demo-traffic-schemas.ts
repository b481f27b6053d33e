/** Simulated cart-pole robots for the demo (`--demo-traffic`, the Traffic page's toggle). */
import { z } from 'zod';

export const DemoTrafficStatusSchema = z.object({
  running: z.boolean(),
  robots: z.number().int().nonnegative(),
  hz: z.number().positive(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  episodes: z.number().int().nonnegative(),
  startedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** The trace the robots' requests are recorded to (null when not recording). */
  trace: z.string().nullable(),
});
export type DemoTrafficStatus = z.infer<typeof DemoTrafficStatusSchema>;

export const demoTrafficMethods = {
  'demo.traffic.get': { input: z.object({}).strict(), output: DemoTrafficStatusSchema },
  /** Turn the robots on (recording to the record folder) or off. */
  'demo.traffic.set': { input: z.object({ on: z.boolean(), robots: z.number().int().min(1).max(64).optional() }).strict(), output: DemoTrafficStatusSchema },
} as const;
