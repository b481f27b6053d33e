/** The environments suites may name. Add a second one here. */
import { cartpoleFactory } from './cartpole.js';
import type { EnvironmentFactory } from './environment.js';

export const ENVIRONMENTS: Readonly<Record<string, EnvironmentFactory>> = {
  [cartpoleFactory.name]: cartpoleFactory,
};

export function findEnvironment(name: string): EnvironmentFactory | undefined {
  return Object.prototype.hasOwnProperty.call(ENVIRONMENTS, name) ? ENVIRONMENTS[name] : undefined;
}
