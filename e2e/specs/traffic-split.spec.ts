import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, test } from '../support/fixtures.js';
import { actAll, bucketOf, expectedSlot, REFERENCE_BUCKETS, type ActAnswer } from '../support/routing.js';
import { callApi, resultsDir, type ServerInfo, type ServingStateInfo } from '../support/server.js';

async function servingState(server: ServerInfo): Promise<ServingStateInfo> {
  return callApi(server, 'serving.getState');
}

function slotsOf(answers: readonly ActAnswer[]): Map<string, string | null> {
  return new Map(answers.map((a) => [a.episodeId, a.slotHeader]));
}

test('the routing formula of this test matches the reference values', () => {
  for (const [key, bucket] of REFERENCE_BUCKETS) expect(bucketOf(key), key).toBe(bucket);
});

test('the split slider reaches the router; /act follows the formula and keeps episodes sticky', async ({ workbench, page, server }) => {
  await workbench.open();

  // The demo workspace is registered, with a production version.
  await expect.poll(() => workbench.versionRows().count()).toBeGreaterThanOrEqual(2);
  await expect(workbench.rowsWithStage('production')).toHaveCount(1);

  await workbench.traffic();
  const before = await servingState(server);
  expect(before.mode, 'the console --demo serves two policies').toBe('ab');
  const slotA = before.slots.find((s) => s.slot === 'a');
  const slotB = before.slots.find((s) => s.slot === 'b');
  expect(slotA && slotB, 'slots a and b are loaded').toBeTruthy();
  await expect(workbench.slotCard('A')).toContainText(slotA!.versionRef);
  await expect(workbench.slotCard('B')).toContainText(slotB!.versionRef);
  await expect(workbench.splitSlider()).toBeVisible();

  // Move the slider to 80: the change reaches the router.
  await workbench.setSplit(80);
  await expect.poll(async () => (await servingState(server)).split).toBe(80);

  const actUrl = before.actUrl ?? `${server.origin}/act`;
  const run = randomUUID().slice(0, 8);
  const episodes = Array.from({ length: 400 }, (_, i) => `e2e-${run}-${i}`);
  const first = await actAll(actUrl, episodes);

  for (const answer of first) {
    expect(answer.status, `/act for ${answer.episodeId}: ${JSON.stringify(answer.body)}`).toBe(200);
    expect(answer.body?.slot, 'body and X-Switchyard-Policy-Slot agree').toBe(answer.slotHeader);
    expect(answer.requestId, 'X-Request-ID is set').toBeTruthy();
    const slot = answer.slotHeader === 'a' ? slotA! : slotB!;
    expect(answer.modelVersionHeader, 'X-Switchyard-Model-Version names the slot model').toBe(slot.modelVersion);
  }
  const shareA = first.filter((a) => a.slotHeader === 'a').length / first.length;
  expect(shareA, `share of slot a at split 80 was ${shareA}`).toBeGreaterThanOrEqual(0.7);
  expect(shareA).toBeLessThanOrEqual(0.9);
  const wrong = first.filter((a) => a.slotHeader !== expectedSlot(a.episodeId, 80)).map((a) => `${a.episodeId} -> ${a.slotHeader}`);
  expect(wrong, 'every episode is routed by the formula at split 80').toEqual([]);

  // Move the slider to 20: episodes already seen keep their slot, new ones follow the new split.
  await workbench.setSplit(20);
  await expect.poll(async () => (await servingState(server)).split).toBe(20);

  const wouldMove = episodes.filter((id) => expectedSlot(id, 80) !== expectedSlot(id, 20));
  expect(wouldMove.length, 'enough old episodes would move if routing were not sticky').toBeGreaterThan(150);
  const firstSlots = slotsOf(first);
  const again = await actAll(actUrl, episodes);
  const moved = again.filter((a) => a.slotHeader !== firstSlots.get(a.episodeId)).map((a) => `${a.episodeId}: ${firstSlots.get(a.episodeId)} -> ${a.slotHeader}`);
  expect(moved, 'episodes in progress keep their slot after the split changes').toEqual([]);

  const fresh = Array.from({ length: 100 }, (_, i) => `e2e-${run}-new-${i}`);
  const freshAnswers = await actAll(actUrl, fresh);
  const wrongFresh = freshAnswers.filter((a) => a.slotHeader !== expectedSlot(a.episodeId, 20)).map((a) => `${a.episodeId} -> ${a.slotHeader}`);
  expect(wrongFresh, 'new episodes follow the split of 20').toEqual([]);

  // Let the requests-per-second chart draw the traffic, then keep a picture of the page.
  await expect(page.getByRole('img', { name: /Requests per second per slot/ })).toBeVisible({ timeout: 15_000 });
  await page.waitForTimeout(1_500);
  await page.screenshot({ path: path.join(resultsDir, 'traffic.png'), fullPage: true });
});
