import { BrowserContext, Locator, Page, expect, test } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/*
 * The dashboard against the real gateway and services (started by DashboardE2EIT with ./bkg up):
 * one signed-in page walks through the features a person uses, writing a screenshot of each page.
 */
const USER = process.env['BKG_USER'] ?? 'admin';
const PASSWORD = process.env['BKG_PASSWORD'] ?? '';

test.describe.configure({ mode: 'serial' });

let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], viewport: { width: 1360, height: 900 } });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
});

const shot = (name: string) => page.screenshot({ path: `target/e2e/screenshots/${name}.png`, fullPage: true });
const row = (table: string, attribute: string, value: string) =>
  page.getByTestId(table).locator(`tr[${attribute}="${value}"]`);

test('signs in; a wrong password shows the problem the gateway answered', async () => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await shot('login');
  await page.getByLabel('username').fill(USER);
  await page.getByLabel('password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('error-alert')).toContainText('401');

  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(row('plugins-table', 'data-plugin', 'apikeys').getByTestId('status-badge')).toHaveText('RUNNING');
  await expect(row('plugins-table', 'data-plugin', 'brainml').getByTestId('status-badge')).toHaveText('STOPPED');
  await expect(row('services-table', 'data-service', 'gateway-service').getByTestId('status-badge')).toHaveText('up');
  await expect(page.getByTestId('mesh-state')).toContainText('Mesh READY'); // as ./bkg status says
  await shot('overview');
});

test('starts a plugin: the badge changes, log lines and chart points arrive live', async () => {
  await page.goto('/plugins/brainml');
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  const state = page.getByTestId('plugin-state');
  await expect(state).toHaveText('STOPPED');
  await expect(page.getByTestId('log-socket-state')).toHaveText('open');
  const lines = page.getByTestId('log-lines').locator('.line');
  const before = await lines.count();

  await page.getByTestId('plugin-start').click();
  await expect(state).toHaveText(/STARTING|RUNNING/);
  await expect(state).toHaveText('RUNNING', { timeout: 150_000 });
  await expect(page.locator('[data-nav-plugin="brainml"]').getByTestId('status-badge')).toHaveText('RUNNING');

  // the process's own output, pushed over the socket while the page was open
  await expect.poll(() => lines.count(), { timeout: 60_000 }).toBeGreaterThan(before);
  // CPU and memory samples keep coming (one a second): the charts grow
  const cpuPoints = () => page.getByTestId('chart-cpu').getByTestId('chart').getAttribute('data-points').then(Number);
  await expect.poll(cpuPoints, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  const seen = await cpuPoints();
  await expect.poll(cpuPoints, { timeout: 30_000 }).toBeGreaterThan(seen);
  await expect(page.getByTestId('chart-rss').getByTestId('chart-latest')).toContainText('MiB');
  // the uptime counts on by itself
  const uptime = page.getByTestId('plugin-uptime');
  await expect(uptime).toHaveText(/^\d+[smhd]/);
  const upBefore = await uptime.textContent();
  await expect.poll(() => uptime.textContent(), { timeout: 10_000 }).not.toBe(upBefore);

  // search and level filter narrow what is shown
  const search = page.getByTestId('log-search');
  await search.fill('no-such-text-in-any-log-line');
  await expect(lines).toHaveCount(0);
  await search.fill('');
  await expect.poll(() => lines.count()).toBeGreaterThan(0);
  await page.getByTestId('log-level').selectOption('ERROR');
  for (const line of await lines.all()) {
    await expect(line).toHaveClass(/error|fatal|severe/);
  }
  await page.getByTestId('log-level').selectOption('ALL');
  await shot('plugin-dashboard');
});

test('brainml playground: indexes texts, queries them and shows scores', async () => {
  await page.getByRole('tab', { name: 'Playground' }).click();
  await page.getByTestId('brainml-collection').fill(`e2e-${Date.now().toString(36)}`);
  await page.getByTestId('brainml-texts').fill([
    'food | a man is eating food',
    'food | a man is eating a piece of bread',
    'baby | a girl is carrying a baby',
  ].join('\n'));
  await page.getByTestId('brainml-index').click();
  await expect(page.getByTestId('brainml-message')).toContainText('indexed 3 documents', { timeout: 60_000 });

  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('brainml-message')).toContainText('trained', { timeout: 60_000 });

  await page.getByTestId('brainml-query').fill('a man is eating food');
  await page.getByTestId('brainml-ask').click();
  const hits = page.getByTestId('brainml-hits').locator('tr').filter({ has: page.locator('td') });
  await expect(hits.nth(1)).toBeVisible();
  await expect(hits.nth(0)).toContainText('a man is eating food');
  await expect(hits.nth(1)).toContainText('bread');
  const best = Number(await hits.nth(0).locator('td.score span').last().textContent());
  const second = Number(await hits.nth(1).locator('td.score span').last().textContent());
  expect(best).toBeGreaterThan(0.99);
  expect(second).toBeLessThan(best);
  // the unrelated text ranks below both, or (scoring below zero) is left out
  const unrelated = hits.filter({ hasText: 'a girl is carrying a baby' });
  if (await unrelated.count() > 0) {
    expect(Number(await unrelated.locator('td.score span').last().textContent())).toBeLessThan(second);
  }
  await expect(page.getByText('predicted label')).toContainText('food');
  await shot('brainml-playground');

  // each inference role reports its own figures: brainml's process shows as its own service
  await page.goto('/');
  await expect(row('services-table', 'data-service', 'inference-service-index').getByTestId('status-badge')).toHaveText('up');
  await expect(row('services-table', 'data-service', 'inference-service').getByTestId('status-badge')).toHaveText('up');
  await page.goto('/plugins/brainml');
});

test('stops the plugin only after confirmation', async () => {
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  const state = page.getByTestId('plugin-state');
  await expect(state).toHaveText('RUNNING');
  await page.getByTestId('plugin-stop').getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(state).toHaveText('RUNNING');

  await page.getByTestId('plugin-stop').getByRole('button', { name: 'Stop' }).click();
  await page.getByTestId('confirm').click();
  await expect(state).toHaveText('STOPPED', { timeout: 60_000 });
  await expect(page.locator('[data-nav-plugin="brainml"]').getByTestId('status-badge')).toHaveText('STOPPED');
});

test('creates an API key shown once with a copy button, and revokes it', async () => {
  await page.goto('/plugins/apikeys');
  await page.getByTestId('key-name').fill('e2e-key');
  await page.getByRole('button', { name: 'Create key' }).click();
  const value = page.getByTestId('new-key-value');
  await expect(value).toHaveText(/^bkg_/);
  const key = (await value.textContent())!.trim();
  await shot('api-keys');

  await page.getByTestId('copy-key').click();
  await expect(page.getByTestId('copy-key')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

  // the key works (it has the "inference" scope) ...
  expect((await page.request.get('/v1/models', { headers: { 'x-api-key': key } })).status()).toBe(200);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(value).toHaveCount(0);
  const keyRow = row('keys-table', 'data-key', 'e2e-key');
  await expect(keyRow.getByTestId('status-badge')).toHaveText('ACTIVE');
  await expect(keyRow).not.toContainText(key);

  // ... until it is revoked (the gateway caches validations for a few seconds)
  await keyRow.getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('confirm').click();
  await expect(keyRow.getByTestId('status-badge')).toHaveText('REVOKED');
  await expect.poll(async () => (await page.request.get('/v1/models', { headers: { 'x-api-key': key } })).status(),
    { timeout: 20_000 }).toBe(401);
});

test('downloads a model from a local server with a moving progress bar, then deletes it', async () => {
  const size = 8 * 1024 * 1024;
  const server = await slowFileServer(size);
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/e2e-model.onnx`;
    await page.goto('/models');
    await page.getByTestId('download-name').fill('e2e-download');
    await page.getByTestId('download-url').fill(url);
    await page.getByRole('button', { name: 'Download' }).click();

    const modelRow = row('models-table', 'data-model', 'e2e-download');
    const bar = modelRow.getByTestId('download-progress').locator('progress');
    await expect(bar).toBeVisible();
    const seen = new Set<number>();
    while (await bar.count() > 0 && seen.size < 50) {
      // the bar may vanish (the download ended) between count() and here: never wait for it
      const done = Number(await bar.getAttribute('data-done', { timeout: 500 }).catch(() => null));
      if (done > 0 && done < size) {
        seen.add(done);
        if (seen.size === 2) {
          await shot('models-downloading');
        }
      }
      await page.waitForTimeout(100);
    }
    expect(seen.size, `progress values seen: ${[...seen]}`).toBeGreaterThanOrEqual(2);
    await expect(modelRow.getByTestId('status-badge')).toHaveText(/READY|INVALID/);
    await expect(modelRow).toContainText('8.0 MiB');
    await shot('models');

    await modelRow.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('confirm').click();
    await expect(modelRow).toHaveCount(0);
  } finally {
    server.close();
  }
});

test('edits a plugin config in the form made from its schema, with field errors', async () => {
  await page.goto('/plugins/repoagent');
  const form = page.getByTestId('config-form');
  const maxBody = form.getByTestId('config-maxBodyBytes');
  await expect(maxBody).toHaveValue('4194304'); // the schema's default
  const version = Number((await form.getByText(/^version \d+$/).textContent())!.replace('version ', ''));

  await maxBody.fill('100');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByTestId('config-error-maxBodyBytes')).toHaveText('must be ≥ 1024');

  await maxBody.fill('8388608');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByTestId('config-saved')).toBeVisible();
  await expect(form.getByText(`version ${version + 1}`)).toBeVisible();
  await expect(form.getByTestId('config-error-maxBodyBytes')).toHaveCount(0);
  await shot('plugin-config');

  // what the plugin manager stored comes back after a reload
  await page.reload();
  await expect(page.getByTestId('config-form').getByTestId('config-maxBodyBytes')).toHaveValue('8388608');
});

test('chat: streams a reply from a chat model, shows tokens/s, and stops on demand', async () => {
  test.setTimeout(480_000); // llmserver autostarts with the mesh but may still be starting; the model loads on first use
  const model = process.env['BKG_E2E_CHAT_MODEL'] ?? '';
  expect(model, 'BKG_E2E_CHAT_MODEL names the chat model the harness installed').not.toBe('');
  await page.goto('/chat');
  await expect(page).toHaveURL(/\/plugins\/llmserver$/);
  await page.getByRole('tab', { name: 'Chat' }).click();
  await expect(page.getByRole('tab', { name: 'Chat' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('chat-state')).toHaveText('RUNNING', { timeout: 150_000 });
  await page.getByTestId('chat-model').selectOption(model); // waits for the list from /v1/models

  const input = page.getByTestId('chat-input');
  const notice = page.getByTestId('chat-notice');
  const replies = page.locator('[data-testid="chat-message"][data-role="assistant"]');
  /** Sends with Enter; the gateway's answer, and the reply streaming in once it accepted (200), else null. */
  const ask = async (text: string) => {
    const before = await replies.count();
    await input.fill(text);
    const answered = page.waitForResponse(r => r.url().endsWith('/v1/chat/completions') && r.request().method() === 'POST',
      { timeout: 120_000 });
    await input.press('Enter');
    const response = await answered;
    return { response, reply: response.status() === 200 ? replies.nth(before) : null };
  };
  /** A refused send must be a passing one (busy, or the model still loading): wait, then ask again. */
  const refused = async (status: number) => {
    expect([429, 503], `the send was refused: ${(await notice.allTextContents()).join(' ')}`).toContain(status);
    await page.waitForTimeout(5_000);
  };
  const ended = /^(done|stopped|error)$/;

  // a short first reply (the harness's model never ends by itself: max tokens ends it)
  await page.getByTestId('chat-settings').click();
  await page.getByTestId('chat-setting-max_tokens').fill('32');

  // a reply streams in, then its figures; random weights may draw an end token first, so an empty reply is asked again
  let first: Locator | null = null;
  for (let attempt = 1; attempt <= 5 && !first; attempt++) {
    const { response, reply } = await ask('Hello there');
    if (!reply) {
      await refused(response.status());
      continue;
    }
    await expect(page.locator('[data-testid="chat-message"][data-role="user"]').last()).toHaveText(/Hello there/);
    await expect(reply).toHaveAttribute('data-state', ended, { timeout: 120_000 });
    expect(await reply.getAttribute('data-state'), (await notice.allTextContents()).join(' ')).toBe('done');
    if ((await reply.getByTestId('chat-text').textContent() ?? '').trim()) {
      first = reply;
    }
  }
  expect(first, 'a reply with text within five tries').not.toBeNull();
  await expect(first!.getByTestId('chat-stats')).toContainText('tokens/s');
  await expect(page.getByTestId('chat-stop')).toHaveCount(0);

  // a long reply (max tokens 2000), stopped once some text has come: the text so far stays, marked stopped
  await page.getByTestId('chat-setting-max_tokens').fill('2000');
  let stopped: Locator | null = null;
  for (let attempt = 1; attempt <= 5 && !stopped; attempt++) {
    const { response, reply } = await ask('Tell me a long story, please.');
    if (!reply) {
      await refused(response.status());
      continue;
    }
    expect(response.request().postDataJSON()).toEqual(expect.objectContaining({ model, stream: true, max_tokens: 2000 }));
    const text = reply.getByTestId('chat-text');
    await expect.poll(async () => /\S/.test(await text.textContent() ?? '') || await reply.getAttribute('data-state') !== 'streaming',
      { timeout: 120_000 }).toBe(true);
    // the Stop button is gone if the reply has already ended by itself (then it is asked again)
    await page.getByTestId('chat-stop').click({ timeout: 5_000 }).catch(() => undefined);
    await expect(reply).toHaveAttribute('data-state', ended, { timeout: 30_000 });
    if (await reply.getAttribute('data-state') === 'stopped' && /\S/.test(await text.textContent() ?? '')) {
      stopped = reply;
    }
  }
  expect(stopped, 'a reply stopped while it streamed within five tries').not.toBeNull();
  await expect(stopped!.getByTestId('chat-stopped')).toHaveText('stopped');
  await expect(stopped!.getByTestId('chat-stats')).toContainText('stopped');
  await expect(page.getByTestId('chat-stop')).toHaveCount(0);
  await input.fill('one more');
  await expect(page.getByTestId('chat-send')).toBeEnabled();
  await shot('chat');
});

test('faces: detects a face in a real photo, enrols it, tells another man apart and recognises the enrolled one', async () => {
  test.setTimeout(360_000); // rustyface autostarts with the mesh but may still be starting
  // real photographs from Debian's opencv-doc (installed by .ci/run): one man, then another
  const photos = '/usr/share/doc/opencv-doc/opencv4/html';
  const manOne = `${photos}/227943776_1.jpg`;
  const manTwo = `${photos}/230501201_1.jpg`;
  await page.goto('/faces');
  await expect(page).toHaveURL(/\/plugins\/rustyface$/);
  await expect(page.getByRole('tab', { name: 'Faces' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('faces-state')).toHaveText('RUNNING', { timeout: 150_000 });

  const boxes = page.getByTestId('face-box');
  const matches = page.getByTestId('face-match');
  await page.getByTestId('face-file').setInputFiles(manOne);
  // the first detection may meet the service still warming up (a 503 problem): ask again until it answers
  await expect(async () => {
    if (await page.getByTestId('error-alert').isVisible()) {
      await page.getByTestId('face-detect').click();
    }
    await expect(boxes).toHaveCount(1, { timeout: 10_000 });
  }).toPass({ timeout: 120_000 });
  await expect(page.getByTestId('face-timings')).toContainText('434×434');
  await expect(page.getByTestId('faces-table').locator('tr[data-face]')).toHaveCount(1);
  await expect(page.getByTestId('face-timings')).toContainText('ms');

  // a subject, and the face enrolled into it
  const subject = row('subjects-table', 'data-subject', 'e2e-person');
  await page.getByTestId('subject-name').fill('e2e-person');
  await page.getByTestId('subject-create').click();
  await expect(subject.getByTestId('subject-face-count')).toHaveText('0');
  const faceRow = page.getByTestId('faces-table').locator('tr[data-face="0"]');
  await faceRow.getByTestId('enrol-name').fill('e2e-person');
  await faceRow.getByTestId('enrol').click();
  await expect(subject.getByTestId('subject-face-count')).toHaveText('1');
  await shot('faces-enrolled');

  // another man is nobody we know
  await page.getByTestId('face-file').setInputFiles(manTwo);
  await expect(page.getByTestId('face-timings')).toContainText('584×824', { timeout: 60_000 }); // its detection is back
  await expect(boxes.first()).toBeVisible();
  await page.getByTestId('face-recognize').click();
  await expect(matches.first()).toBeVisible({ timeout: 60_000 });
  for (const match of await matches.all()) {
    await expect(match).toHaveText('unknown');
  }
  await shot('faces-unknown');

  // the first man again is recognised
  await page.getByTestId('face-file').setInputFiles(manOne);
  await expect(page.getByTestId('face-timings')).toContainText('434×434', { timeout: 60_000 });
  await expect(boxes).toHaveCount(1);
  await page.getByTestId('face-recognize').click();
  await expect(matches).toHaveCount(1, { timeout: 60_000 });
  await expect(matches).toContainText('e2e-person');
  await shot('faces-recognised');

  await subject.getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('confirm').click();
  await expect(subject).toHaveCount(0);
  await expect(page.getByTestId('faces-message')).toContainText('e2e-person deleted');
});

test('candle: loads a model, runs it from the playground, and unloads it', async () => {
  test.setTimeout(420_000); // candle starts on demand, then loads the model into ONNX Runtime
  const model = 'all-minilm-l6-v2'; // built in: always in the catalog
  await page.goto('/plugins/candle');
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  const state = page.getByTestId('plugin-state');
  await expect(state).toHaveText('STOPPED');
  await page.getByTestId('plugin-start').click();
  await expect(state).toHaveText('RUNNING', { timeout: 150_000 });

  // load it: its row shows where it runs and the memory it holds
  await page.getByRole('tab', { name: 'Models' }).click();
  await expect(page.getByTestId('candle-state')).toHaveText('RUNNING');
  await page.getByTestId('candle-model').selectOption(model); // waits for the catalog
  await page.getByTestId('candle-load').click();
  const loaded = row('candle-loaded', 'data-model', model);
  await expect(loaded).toContainText('CPU', { timeout: 120_000 });
  await expect(loaded).toContainText(/\d+(\.\d)? MiB/);
  await expect(page.getByTestId('candle-message')).toContainText(`loaded ${model}`);
  await shot('candle');

  // its signature prefills the request; four tokens give four vectors of 384
  await page.getByRole('tab', { name: 'Playground' }).click();
  await page.getByTestId('candle-play-model').selectOption(model);
  await expect(page.getByTestId('candle-signature')).toContainText('input_ids');
  const request = page.getByTestId('candle-request');
  await expect(request).toHaveValue(/"input_ids"/);
  await request.fill(JSON.stringify({
    inputs: [
      { name: 'input_ids', shape: [1, 4], datatype: 'INT64', data: [101, 7592, 2088, 102] },
      { name: 'attention_mask', shape: [1, 4], datatype: 'INT64', data: [1, 1, 1, 1] },
      { name: 'token_type_ids', shape: [1, 4], datatype: 'INT64', data: [0, 0, 0, 0] },
    ],
    outputs: [{ name: 'last_hidden_state' }],
  }, null, 2));
  await page.getByTestId('candle-send').click();
  const output = row('candle-outputs', 'data-output', 'last_hidden_state');
  await expect(output).toContainText('[1, 4, 384]', { timeout: 60_000 });
  await expect(output).toContainText('FP32');
  await expect(output).toContainText('(1536 values)');
  await expect(page.getByTestId('candle-timing')).toContainText(/\d+\.\d ms run/);
  await shot('candle-playground');

  // unloaded, its row goes
  await page.getByRole('tab', { name: 'Models' }).click();
  await loaded.getByTestId('candle-unload').click();
  await expect(loaded).toHaveCount(0);
  await expect(page.getByTestId('candle-message')).toContainText(`unloaded ${model}`);

  // stopped again, as the mesh started it
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  await page.getByTestId('plugin-stop').getByRole('button', { name: 'Stop' }).click();
  await page.getByTestId('confirm').click();
  await expect(state).toHaveText('STOPPED', { timeout: 60_000 });
});

test('an admin creates a user whose roles limit what the dashboard lets them do, then deletes them', async () => {
  await page.goto('/users');
  await page.getByTestId('user-name').fill('e2e-viewer');
  await page.getByTestId('user-password').fill('viewer-password-0123456789');
  await page.getByTestId('role-plugins:read').check();
  await page.getByTestId('role-telemetry:read').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(row('users-table', 'data-user', 'e2e-viewer')).toContainText('plugins:read, telemetry:read');
  await shot('users');

  await signOutAndIn('e2e-viewer', 'viewer-password-0123456789');
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/plugins/brainml');
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('plugin-state')).toHaveText('STOPPED');
  await expect(page.getByTestId('plugin-start')).toBeDisabled(); // no plugins:write
  await page.goto('/models');
  await expect(page.getByTestId('error-alert')).toContainText('403'); // no models:read: the gateway's problem is shown

  await signOutAndIn(USER, PASSWORD);
  await page.goto('/users');
  const viewer = row('users-table', 'data-user', 'e2e-viewer');
  await viewer.getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('confirm').click();
  await expect(viewer).toHaveCount(0);
  await expect(page.getByTestId('users-message')).toContainText('e2e-viewer deleted');
});

async function signOutAndIn(user: string, password: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('username').fill(user);
  await page.getByLabel('password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
}

/** Serves `size` bytes at any path, 64 KiB every 50 ms, so a download takes a few seconds. */
function slowFileServer(size: number): Promise<Server> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    let sent = 0;
    const timer = setInterval(() => {
      const n = Math.min(chunk.length, size - sent);
      response.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      sent += n;
      if (sent >= size) {
        clearInterval(timer);
        response.end();
      }
    }, 50);
    request.on('close', () => clearInterval(timer));
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}
