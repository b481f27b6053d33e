/** `serving.*`: the serving state, its history, the A/B split and drained slots. */
import type { ServingController } from '../../serve/serving-controller.js';
import type { ServingJournal } from '../../serve/serving-journal.js';
import type { Handlers } from '../dispatcher.js';

export type ServingHandlers = Pick<Handlers, 'serving.getState' | 'serving.history' | 'serving.setSplit' | 'serving.restoreSlot'>;

export function servingHandlers(serving: ServingController, journal: ServingJournal): ServingHandlers {
  return {
    'serving.getState': () => serving.state(),
    'serving.history': ({ sinceMs }) => journal.history(sinceMs),
    'serving.setSplit': ({ split }) => serving.setSplit(split),
    'serving.restoreSlot': ({ slot }) => serving.restoreSlot(slot),
  };
}
