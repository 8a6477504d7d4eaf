// The live dashboard: sign in, pick branches, today's sales ticking in over saleCompleted, totals per
// branch, sales per hour (Chart.js), low-stock alerts over lowStockAlert. Operations are the typed
// documents of @umi/clients/typed (GraphQL Code Generator's client preset).
import './style.css';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import {
  DashboardBranchesDocument,
  DashboardLowStockAlertDocument,
  DashboardLowStockDocument,
  DashboardSaleCompletedDocument,
  DashboardSalesSinceDocument,
  LoginDocument,
  type DashboardBranchesQuery,
  type DashboardSalesSinceQuery,
} from '@umi/clients/typed';
import { live, liveClient, request } from './api';
import { formatNgwee, toNgwee } from './money';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

type Branch = DashboardBranchesQuery['branches'][number];
interface SaleRow {
  id: string;
  saleNumber: string;
  branchId: string;
  ngwee: bigint;
  at: Date;
}

const $ = <T extends HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};

const state = {
  token: '',
  branches: [] as Branch[],
  selected: new Set<string>(),
  sales: new Map<string, SaleRow>(),
  alerts: [] as { key: string; text: string; branchId: string; productId: string; fresh: boolean }[],
};

/** Local midnight: "today" is the browser's day, the one the person looking at the board lives in. */
function startOfToday(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

const chart = new Chart($<HTMLCanvasElement>('#per-hour'), {
  type: 'bar',
  data: { labels: Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`), datasets: [{ label: 'ZMW', data: new Array<number>(24).fill(0), backgroundColor: '#0b6e4f' }] },
  options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } },
});

function branchName(id: string): string {
  const b = state.branches.find((x) => x.id === id);
  return b ? `${b.name} (${b.code})` : id;
}

function render(): void {
  const today = startOfToday();
  const rows = [...state.sales.values()].filter((s) => state.selected.has(s.branchId) && s.at >= today);
  const total = rows.reduce((sum, s) => sum + s.ngwee, 0n);
  $('#today-total').textContent = formatNgwee(total);
  $('#today-count').textContent = String(rows.length);

  const body = $('#per-branch tbody');
  body.replaceChildren(
    ...state.branches
      .filter((b) => state.selected.has(b.id))
      .map((b) => {
        const mine = rows.filter((s) => s.branchId === b.id);
        const tr = document.createElement('tr');
        tr.dataset.branchId = b.id;
        tr.innerHTML = `<td></td><td class="num"></td><td class="num"></td>`;
        const [name, count, sum] = [...tr.children] as HTMLElement[];
        name!.textContent = branchName(b.id);
        count!.textContent = String(mine.length);
        sum!.textContent = formatNgwee(mine.reduce((a, s) => a + s.ngwee, 0n));
        return tr;
      }),
  );

  // The chart shows hourly sums as numbers: a display of amounts already summed exactly in ngwee.
  const perHour = new Array<bigint>(24).fill(0n);
  for (const s of rows) perHour[s.at.getHours()] = (perHour[s.at.getHours()] ?? 0n) + s.ngwee;
  const dataset = chart.data.datasets[0];
  if (dataset) dataset.data = perHour.map((n) => Number(n) / 100);
  chart.update();

  const feed = $('#sales-feed');
  feed.replaceChildren(
    ...rows
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .slice(0, 25)
      .map((s) => {
        const li = document.createElement('li');
        li.dataset.saleId = s.id;
        li.textContent = `${s.at.toLocaleTimeString()} · ${s.saleNumber} · ${branchName(s.branchId)} · ZMW ${formatNgwee(s.ngwee)}`;
        return li;
      }),
  );

  $('#alerts').replaceChildren(
    ...state.alerts
      .filter((a) => state.selected.has(a.branchId))
      .map((a) => {
        const li = document.createElement('li');
        li.dataset.productId = a.productId;
        li.dataset.branchId = a.branchId;
        if (a.fresh) li.className = 'fresh';
        li.textContent = a.text;
        return li;
      }),
  );
}

function addSale(s: { id: string; saleNumber: string; totalAmount: string; createdAt: string; status: string; branch: { id: string } }): void {
  if (s.status === 'VOIDED') return;
  state.sales.set(s.id, { id: s.id, saleNumber: s.saleNumber, branchId: s.branch.id, ngwee: toNgwee(s.totalAmount), at: new Date(s.createdAt) });
}

function addAlert(a: { productId: string; sku: string; name: string; branchId: string; available: number; level: number; fresh: boolean }): void {
  const key = `${a.branchId}:${a.productId}`;
  state.alerts = state.alerts.filter((x) => x.key !== key);
  state.alerts.unshift({
    key,
    branchId: a.branchId,
    productId: a.productId,
    fresh: a.fresh,
    text: `${a.name} (${a.sku}) at ${branchName(a.branchId)}: ${a.available} available, reorder level ${a.level}`,
  });
}

async function loadBranch(branchId: string): Promise<void> {
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const data: DashboardSalesSinceQuery = await request(DashboardSalesSinceDocument, { branchId, from: startOfToday().toISOString(), first: 100, after }, state.token);
    for (const e of data.sales.edges) addSale(e.node);
    if (!data.sales.pageInfo.hasNextPage) break;
    after = data.sales.pageInfo.endCursor ?? null;
  }
  const low = await request(DashboardLowStockDocument, { branchId }, state.token);
  for (const s of low.branch?.stock ?? []) {
    addAlert({ productId: s.product.id, sku: s.product.sku, name: s.product.name, branchId, available: s.quantityAvailable, level: s.reorderLevel, fresh: false });
  }
}

function renderBranchPicker(): void {
  const box = $('#branches');
  box.querySelectorAll('label').forEach((l) => l.remove());
  for (const b of state.branches) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = b.id;
    input.checked = state.selected.has(b.id);
    input.addEventListener('change', () => {
      if (input.checked) state.selected.add(b.id);
      else state.selected.delete(b.id);
      render();
    });
    label.append(input, ` ${b.name} (${b.code})`);
    box.append(label);
  }
}

async function start(): Promise<void> {
  const status = (s: string) => ($('#status').textContent = s);
  const { me, branches } = await request(DashboardBranchesDocument, {}, state.token);
  $('#who').textContent = me ? `${me.firstName} ${me.lastName} · ${me.role}` : '';
  state.branches = branches;
  state.selected = new Set(branches.map((b) => b.id));
  renderBranchPicker();
  $('#signin').hidden = true;
  $('#board').hidden = false;

  // Subscribe before loading, so that a sale made meanwhile is not missed (the map drops doubles).
  const client = liveClient(state.token, status);
  const fail = (e: unknown) => status(`subscription error: ${JSON.stringify(e)}`);
  live(client, DashboardSaleCompletedDocument, { branchId: null }, (d) => {
    addSale(d.saleCompleted);
    render();
  }, fail);
  live(client, DashboardLowStockAlertDocument, { branchId: null }, (d) => {
    const a = d.lowStockAlert;
    addAlert({ productId: a.product.id, sku: a.product.sku, name: a.product.name, branchId: a.branch.id, available: a.quantityAvailable, level: a.reorderLevel, fresh: true });
    render();
  }, fail);
  await Promise.all(branches.map((b) => loadBranch(b.id)));
  render();
  document.body.dataset.ready = 'true';
}

$<HTMLFormElement>('#signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target as HTMLFormElement);
  $('#signin-error').textContent = '';
  void request(LoginDocument, { email: String(form.get('email')), password: String(form.get('password')), tenant: String(form.get('tenant')) })
    .then(async (data) => {
      state.token = data.login.accessToken;
      await start();
    })
    .catch((err: unknown) => {
      $('#signin-error').textContent = err instanceof Error ? err.message : String(err);
    });
});
render();
