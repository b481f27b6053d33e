/** `demo.traffic.*`: simulated robots against this server's `/act`. */
import type { DemoTrafficStatus } from '../../contract/index.js';
import type { Handlers } from '../dispatcher.js';

export type DemoHandlers = Pick<Handlers, 'demo.traffic.get' | 'demo.traffic.set'>;

export interface DemoTrafficControl {
  status(): DemoTrafficStatus;
  set(on: boolean, robots?: number): Promise<DemoTrafficStatus>;
}

export function demoHandlers(traffic: DemoTrafficControl): DemoHandlers {
  return {
    'demo.traffic.get': () => traffic.status(),
    'demo.traffic.set': ({ on, robots }) => traffic.set(on, robots),
  };
}
