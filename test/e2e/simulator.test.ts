import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildCvPdf } from '../fakes/cv-files.ts';
import { backendPairs, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDb, type TestDb } from '../support/db.ts';
import { createTestKv, type TestKv } from '../support/kv.ts';
import { browserAvailable, launchChromium, SCREENSHOT_DIR, watchPageErrors } from './browser.ts';

/**
 * The simulator page in a real headless Chromium, on the app's embedded defaults (simulator transport,
 * demo process seeded): a person applies from "hola" to the closing message, uploading a PDF CV, and the
 * side panel shows the recruiter's notification and the application's status and score.
 */

const STEP_MS = 15_000;

interface Layout {
  overflow: number;
  composerBottom: number;
  composerRight: number;
  height: number;
  width: number;
}
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

let phoneSeq = 0;
const newPhone = () => `+346${String(Date.now()).slice(-5)}${String(++phoneSeq).padStart(3, '0')}`;

describe.runIf(browserAvailable).each(backendPairs)('the simulator page on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let kv: TestKv;
  let t: TestApp;
  let context: BrowserContext;
  const phone = newPhone();

  beforeAll(async () => {
    db = await createTestDb(dbBackend);
    kv = await createTestKv(kvBackend);
    t = await startTestApp({
      overrides: { db: db.client, kv: kv.store },
      env: { WHATSAPP_TRANSPORT: 'simulator', SEED_DEMO: 'true' },
    });
  });
  afterAll(async () => {
    await context?.close();
    await t?.close();
    await kv?.destroy();
    await db?.destroy();
  });

  /** The newest bot message containing `text` (the candidate's own bubbles are `.msg.out`). */
  const botMessage = (page: Page, text: string | RegExp) => page.locator('.msg.in', { hasText: text }).last();

  async function say(page: Page, text: string) {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  }

  async function tap(page: Page, message: string | RegExp, choice: string) {
    const button = botMessage(page, message).getByRole('button', { name: choice, exact: true });
    await button.waitFor({ timeout: STEP_MS });
    await button.click();
  }

  async function waitFor(page: Page, message: string | RegExp) {
    await botMessage(page, message).waitFor({ timeout: STEP_MS });
  }

  test('a person applies from "hola" to the closing message and sees the recruiter notification and score', async () => {
    context = await browser.newContext({ viewport: { width: 1200, height: 820 }, locale: 'es-ES' });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${t.url}/simulator`);

    await page.locator('#phone').fill(phone);
    await page.locator('#connect').click();
    await page.locator('#status', { hasText: `online as ${phone}` }).waitFor({ timeout: STEP_MS });

    await say(page, 'hola');
    await tap(page, '¿Aceptas?', 'Acepto');
    await tap(page, '¿A qué vacante', 'Backend developer Código: DEMO1');
    await waitFor(page, '¿Cuál es tu nombre completo?');
    await say(page, 'Ana García');
    await waitFor(page, '¿Cuál es tu email?');
    await say(page, 'ana.garcia@example.com');
    await waitFor(page, 'envíame tu CV');
    await page
      .locator('#file')
      .setInputFiles({ name: 'cv-ana.pdf', mimeType: 'application/pdf', buffer: await buildCvPdf(2) });
    await page.locator('.msg.out', { hasText: 'cv-ana.pdf' }).waitFor({ timeout: STEP_MS });
    await tap(page, 'Pregunta 1 de 3', 'Sí');
    await waitFor(page, 'Pregunta 2 de 3');
    await say(page, '5');
    await tap(page, 'Pregunta 3 de 3', 'Remote');
    const closing = botMessage(page, 'está completa');
    await closing.waitFor({ timeout: STEP_MS });
    expect(await closing.textContent()).toContain('«Backend developer»');

    // The side panel: the application screened with a score, and the recruiter's WhatsApp notification.
    const row = page.locator('#applications tr', { hasText: 'Backend developer' });
    await row.locator('td.score', { hasText: /\d/ }).waitFor({ timeout: STEP_MS });
    const [status, score] = await Promise.all([
      row.locator('td.status').textContent(),
      row.locator('td.score').textContent(),
    ]);
    expect(status).toMatch(/^(shortlisted|review|rejected)$/);
    expect(Number(score)).toBeGreaterThan(0);
    const note = page.locator('#notifications .note', { hasText: 'DEMO1' });
    await note.first().waitFor({ timeout: STEP_MS });
    expect(await note.count()).toBe(1);
    expect(await note.textContent()).toContain(`(puntuación ${score})`);
    expect(await note.textContent()).toContain('Demo recruiter');

    // Each reply was rendered once, and the page raised no error.
    expect(await page.locator('.msg.in', { hasText: '¿Cuál es tu nombre completo?' }).count()).toBe(1);
    expect(errors).toEqual([]);
    await page.screenshot({
      path: `${SCREENSHOT_DIR}/simulator-${dbBackend}-${kvBackend}-desktop.png`,
      fullPage: true,
    });
    await page.close();
  });

  test('on a phone-sized screen the same chat fits, replays its history and still answers', async () => {
    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 780 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      locale: 'es-ES',
    });
    try {
      const page = await phoneContext.newPage();
      const errors = watchPageErrors(page);
      await page.goto(`${t.url}/simulator?phone=${encodeURIComponent(phone)}`);
      await waitFor(page, 'está completa');
      expect(await page.locator('#phone').inputValue()).toBe(phone);

      await say(page, 'estado');
      await waitFor(page, 'Tus postulaciones:');
      // Nothing wider than the screen, and the composer is on screen without scrolling the page.
      // Evaluated in the page (a string: this project's TypeScript has no DOM types).
      const layout = await page.evaluate<Layout>(`(() => {
          const composer = document.querySelector('#composer').getBoundingClientRect();
          return {
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            composerBottom: composer.bottom,
            composerRight: composer.right,
            height: window.innerHeight,
            width: window.innerWidth,
          };
        })()`);
      expect(layout.overflow).toBeLessThanOrEqual(0);
      expect(layout.composerBottom).toBeLessThanOrEqual(layout.height);
      expect(layout.composerRight).toBeLessThanOrEqual(layout.width);
      expect(errors).toEqual([]);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/simulator-${dbBackend}-${kvBackend}-phone.png` });

      // The side panel sits under the chat; the bar's link takes a person there.
      const panelTop = async () => (await page.locator('#panel').boundingBox())?.y ?? Number.NaN;
      expect(await panelTop()).toBeGreaterThanOrEqual(layout.height);
      await page.getByRole('link', { name: 'Status ↓' }).tap();
      await page.locator('#applications td.score', { hasText: /\d/ }).waitFor({ timeout: STEP_MS });
      expect(await panelTop()).toBeLessThan(layout.height);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/simulator-${dbBackend}-${kvBackend}-phone-panel.png` });
    } finally {
      await phoneContext.close();
    }
  });
});
