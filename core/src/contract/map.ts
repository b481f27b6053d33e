import { z } from 'zod';
import {
  AppInfoSchema,
  PolicySummarySchema,
  ServingStateSchema,
  ServingStatsSchema,
  SlotSchema,
  VersionSummarySchema,
} from './schemas.js';

const Empty = z.object({}).strict();

/**
 * The one map of the API. Every transport (Electron IPC, HTTP `POST /api/<method>`,
 * the WebSocket at `/api/events`) is generated from these two objects; nothing else
 * names a method or an event.
 */
export const methods = {
  'app.info': { input: Empty, output: AppInfoSchema },
  'policies.list': { input: Empty, output: z.object({ policies: z.array(PolicySummarySchema) }) },
  'versions.get': {
    input: z.object({ policy: z.string().min(1), label: z.string().min(1) }).strict(),
    output: VersionSummarySchema,
  },
  'serving.getState': { input: Empty, output: ServingStateSchema },
  'serving.setSplit': {
    input: z.object({ split: z.number().int().min(0).max(100) }).strict(),
    output: ServingStateSchema,
  },
  'serving.restoreSlot': {
    input: z.object({ slot: SlotSchema }).strict(),
    output: ServingStateSchema,
  },
} as const;

export const events = {
  /** Per-slot serving statistics, pushed about twice a second while serving. */
  'serving.stats': ServingStatsSchema,
  /** The serving state, pushed whenever it changes (split, drain, slot readiness). */
  'serving.state': ServingStateSchema,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.infer<Methods[M]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
