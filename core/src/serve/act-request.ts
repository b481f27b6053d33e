import { ErrorCodes, SwitchyardError, type ActRequest } from '../contract/index.js';

const KNOWN_FIELDS = new Set(['episode_id', 'request_id', 'state', 'instruction', 'image']);
const MAX_ID_LENGTH = 256;
/** The largest finite float32; a JSON number beyond it becomes ±Infinity in the model's tensor. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Default `--max-body-bytes`: a 4-camera request of 640×480 JPEGs in base64 is ~0.5 MB. */
export const DEFAULT_MAX_ACT_BODY_BYTES = 1024 * 1024;
/**
 * Deepest nesting of arrays/objects a `/act` body may have: the body object holding the `state`
 * array is 2. Deeper bodies are refused before `JSON.parse` builds them.
 */
export const MAX_ACT_NESTING = 2;

/**
 * A `/act` body that is not a JSON object at all: answered 400 as on every route, where a wrong
 * field of a readable body is 422 (`ERROR_HTTP_STATUS`). `where` is always `body`.
 */
export class UnreadableActBody extends SwitchyardError {
  constructor(message: string) {
    super(ErrorCodes.SWY_ERR_INVALID_INPUT, `body: ${message}`, 'body');
  }
}

/** A wrong field of a readable body: `/act` answers 422 naming it in `where`. */
function invalid(field: string, message: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${field}: ${message}`, field);
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
    throw new UnreadableActBody(`must be a JSON object like {"episode_id": "...", "state": [...]}, got ${describe(body)}`);
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
    // The model sees float32: 1e39 is finite here and Infinity there.
    if (Math.abs(x) > FLOAT32_MAX) throw invalid(`state[${i}]`, `${x} is outside the float32 range the policy takes (±3.4e38); scale the observation`);
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

/**
 * Deepest array/object nesting in a JSON text, stopping as soon as it passes `limit`: a linear
 * scan that allocates nothing, so a hostile body is refused before `JSON.parse` works on it.
 * Brackets inside strings do not count.
 */
export function jsonNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/** `/act`'s JSON body parser: nesting checked first, then `JSON.parse`. */
export function parseActJson(text: string): unknown {
  if (jsonNestingExceeds(text, MAX_ACT_NESTING)) {
    throw new UnreadableActBody(`nested deeper than ${MAX_ACT_NESTING} levels; /act takes {"state": [numbers], ...} with no nested arrays or objects`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UnreadableActBody(`not valid JSON (${(e as Error).message})`);
  }
}

/** The id a `/act` answer carries: the body's `request_id`, else the `X-Request-ID` header, else a fresh one. */
export function actRequestId(body: ActRequest | null, header: unknown, generate: () => string): string {
  if (body?.request_id !== undefined) return body.request_id;
  if (typeof header === 'string' && header !== '' && header.length <= MAX_ID_LENGTH) return header;
  return generate();
}

export type ActOutcome = 'ok' | 'client_error' | 'unavailable' | 'timeout' | 'server_error';

/** The `outcome` label of `switchyard_requests_total` for an HTTP status. */
export function outcomeForStatus(status: number): ActOutcome {
  if (status < 400) return 'ok';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  if (status < 500) return 'client_error';
  return 'server_error';
}
