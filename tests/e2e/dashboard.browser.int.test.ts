import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addDays, dateInZone } from '@umi/kit';
import { ROOT } from '@umi/platform';
import { contractOperation as op, createTenant, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT = join(ROOT, 'dist', 'screenshots', 'dashboard.png');
const inDays = (n: number) => addDays(dateInZone('Africa/Lusaka'), n);

/** The live dashboard in headless Chromium: sales tick in over saleCompleted, alerts over lowStockAlert. */
describe('the live dashboard in a browser', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let browser: Browser;
  let page: Page;
  let productId: string;
  let branchId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    p = await startTestPlatform({ MANIFEST_ONLY_CLIENTS: 'umi-dashboard' });
    t = await createTenant(p, { branchCount: 2 });
    branchId = t.branches[0]!.id;
    const token = t.adminToken;
    productId = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'DASH-1', name: 'Paracetamol 500mg', requiresPrescription: false, controlledSubstance: false } }, { token })).createProduct.id;
    await p.ok(op('ReceiveStock'), { input: { branchId, productId, batchNumber: 'DASH-B1', expiryDate: inDays(300), quantity: 10, costPrice: '4.00', sellingPrice: '12.50', reorderLevel: 5 } }, { token });
    // Every sale is booked to an open till session of its seller.
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId, name: 'Dashboard till' }, { token });
    await p.ok(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '100.00' } }, { token });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  const sell = (quantity: number) =>
    p.ok<{ createSale: { id: string; saleNumber: string; totalAmount: string } }>(
      op('CreateSale'),
      { input: { branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity }] } },
      { token: t.adminToken },
    );

  it('signs in, shows a sale made through the API within 2 s, and a low-stock crossing as an alert', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(p.url.replace(/\/graphql$/, '/dashboard/'));
    await page.fill('input[name=tenant]', t.subdomain);
    await page.fill('input[name=email]', t.adminEmail);
    await page.fill('input[name=password]', t.adminPassword);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-ready=true]', { timeout: 15_000 });
    expect(await page.locator('#branches input[type=checkbox]').count()).toBe(2);
    expect(await page.textContent('#today-total')).toBe('0.00');
    // The subscriptions are connected before the first sale, so the 2 s below measure delivery only.
    await page.waitForSelector('#status:text-is("live")', { timeout: 10_000 });

    const started = Date.now();
    const sale = (await sell(2)).createSale;
    await page.waitForSelector(`#sales-feed li[data-sale-id="${sale.id}"]`, { timeout: 2000 });
    const shownAfterMs = Date.now() - started;
    expect(shownAfterMs).toBeLessThan(2000);
    expect(sale.totalAmount).toBe('25.00');
    expect(await page.textContent('#today-total')).toBe('25.00');
    expect(await page.textContent(`#per-branch tr[data-branch-id="${branchId}"]`)).toContain('25.00');

    // 10 - 2 - 4 = 4 units left, at or below the reorder level of 5: one alert for the crossing.
    await sell(4);
    await page.waitForSelector(`#alerts li[data-product-id="${productId}"]`, { timeout: 2000 });
    expect(await page.textContent(`#alerts li[data-product-id="${productId}"]`)).toContain('4 available, reorder level 5');
    expect(await page.textContent('#today-total')).toBe('75.00');
    expect(await page.textContent('#today-count')).toBe('2');

    mkdirSync(join(ROOT, 'dist', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(errors).toEqual([]);
    process.stdout.write(`dashboard: sale shown after ${shownAfterMs} ms; screenshot ${SCREENSHOT}\n`);
  });
});
