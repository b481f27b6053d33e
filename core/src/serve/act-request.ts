import { ErrorCodes } from '../contract/index.js';
import { ServingError, type ActRequest } from './serving-controller.js';

const KNOWN_FIELDS = new Set(['episode_id', 'request_id', 'state', 'instruction', 'image']);
const MAX_ID_LENGTH = 256;

function invalid(field: string, message: string): ServingError {
  return new ServingError(422, ErrorCodes.SWY_ERR_INVALID_INPUT, `${field}: ${message}`, field);
}

function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(field, `must be a string, got ${describe(v)}`);
  if (v.length > maxLength) throw invalid(field, `must be at most ${maxLength} characters, got ${v.length}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/**
 * Checks a `/act` body by hand rather than with a schema library: it runs on every request,
 * and each problem must name its field. Nothing that fails here reaches a worker.
 */
export function parseActRequest(body: unknown, observationDim: number | null): ActRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ServingError(400, ErrorCodes.SWY_ERR_INVALID_INPUT, `body: must be a JSON object like {"episode_id": "...", "state": [...]}, got ${describe(body)}`, 'body');
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!KNOWN_FIELDS.has(k)) {
      throw invalid(k, `unknown field; /act accepts episode_id, request_id, state, instruction, image${k === 'episodeId' ? ' (did you mean episode_id?)' : ''}`);
    }
  }
  const state = b.state;
  if (state === undefined) throw invalid('state', 'is required: an array of numbers, the observation');
  if (!Array.isArray(state)) throw invalid('state', `must be an array of numbers, got ${describe(state)}`);
  if (observationDim !== null && state.length !== observationDim) {
    throw invalid('state', `must have ${observationDim} numbers for this policy, got ${state.length}`);
  }
  for (let i = 0; i < state.length; i++) {
    const x = state[i];
    if (typeof x !== 'number') throw invalid(`state[${i}]`, `must be a number, got ${describe(x)}`);
    if (!Number.isFinite(x)) throw invalid(`state[${i}]`, 'must be finite');
  }
  const req: ActRequest = { state: state as number[] };
  const episode = optionalString(b, 'episode_id', MAX_ID_LENGTH);
  if (episode !== undefined && episode !== '') req.episode_id = episode;
  const request = optionalString(b, 'request_id', MAX_ID_LENGTH);
  if (request !== undefined && request !== '') req.request_id = request;
  const instruction = optionalString(b, 'instruction', 10_000);
  if (instruction !== undefined) req.instruction = instruction;
  const image = optionalString(b, 'image', 50_000_000);
  if (image !== undefined) req.image = image;
  return req;
}
