import { createHash } from 'node:crypto';

/**
 * The routing formula of SPEC §5, written here independently of core: bucket = first 8 bytes of
 * SHA-256(UTF-8 key) as an unsigned big-endian integer, mod 100; slot `a` iff bucket < split.
 */
export function bucketOf(key: string): number {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % 100n);
}

export function expectedSlot(key: string, split: number): 'a' | 'b' {
  return bucketOf(key) < split ? 'a' : 'b';
}

/** Computed with Python: int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], 'big') % 100. */
export const REFERENCE_BUCKETS: ReadonlyArray<readonly [string, number]> = [
  ['episode-0', 0],
  ['ep-1', 58],
  ['abc', 74],
  ['e2e-xyz-7', 98],
  ['ü-episode', 73],
  ['', 52],
];

export interface ActAnswer {
  episodeId: string;
  status: number;
  slotHeader: string | null;
  modelVersionHeader: string | null;
  requestId: string | null;
  body: { slot?: string; actions?: unknown; model_version?: string } | null;
}

/** POSTs one `/act` request per episode id, `concurrency` at a time. */
export async function actAll(actUrl: string, episodeIds: readonly string[], concurrency = 8): Promise<ActAnswer[]> {
  const answers: ActAnswer[] = new Array<ActAnswer>(episodeIds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < episodeIds.length) {
      const index = next++;
      const episodeId = episodeIds[index] as string;
      const response = await fetch(actUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ episode_id: episodeId, state: [0.01, 0, 0.02, 0] }),
      });
      const text = await response.text();
      let body: ActAnswer['body'] = null;
      try {
        body = JSON.parse(text) as ActAnswer['body'];
      } catch {
        body = null;
      }
      answers[index] = {
        episodeId,
        status: response.status,
        slotHeader: response.headers.get('x-switchyard-policy-slot'),
        modelVersionHeader: response.headers.get('x-switchyard-model-version'),
        requestId: response.headers.get('x-request-id'),
        body,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, episodeIds.length) }, worker));
  return answers;
}
