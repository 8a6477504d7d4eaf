import Decimal from 'decimal.js';
import { z } from 'zod';
import { controlEndpoint, SimulatorKit, type BaseControl } from '../core/control';
import { compactDateTime } from '../core/dates';
import { faultScopeSchema, type FaultScope } from '../core/faults';
import { serve, type Route, type SimResponse } from '../core/http';
import type { RecordedRequest } from '../core/recorder';
import { RESULT, VAT_CATEGORIES, type VatCategory } from './codes';
import { VSDC_ENDPOINTS, type VsdcContext } from './handlers';
import type { VsdcAnswer } from './sales';
import { deviceKey, VsdcState, type AcceptedInvoice, type AcceptedStockMovement } from './state';

export interface DeviceIdentity {
  tpin: string;
  bhfId: string;
  dvcSrlNo: string;
}

export interface VsdcSimulatorOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the endpoints live, default `/zravsdc` (ZRA's sample URL is http://localhost:8080/zravsdc). */
  basePath?: string;
  /** Devices already initialised at start (and after every reset): their selectInitInfo answers 902. */
  devices?: DeviceIdentity[];
  /** When given, only these devices may initialise; any other gets 901. */
  allowedDevices?: DeviceIdentity[];
  /** VAT rates per category in percent, over the defaults (A 16, B 16, RVAT 16, the others 0). */
  vatRates?: Partial<Record<VatCategory, number>>;
  /** How far an amount may be from the exact VAT computation, in kwacha (default 0.01). */
  tolerance?: number;
  /** The VSDC's clock offset from UTC in minutes (default 120: Zambia). */
  utcOffsetMinutes?: number;
  /** Item classes per `selectItemsClass` answer (default 1000). */
  itemClassPageSize?: number;
  /** Origin of the receipts' QR links (default: this simulator, which serves them). */
  receiptLinkBase?: string;
}

const resultCodeSchema = faultScopeSchema.extend({ code: z.string().regex(/^\d{3}$/), message: z.string().optional() });
const deviceSchema = z.object({ tpin: z.string().regex(/^\d{10}$/), bhfId: z.string().regex(/^\d{3}$/), dvcSrlNo: z.string().min(1) });

export interface VsdcControl extends BaseControl {
  /** Answers this VSDC result code (HTTP 200) instead of handling matching requests; `message` defaults to the code's own. */
  resultCode(input: FaultScope & { code: string; message?: string }): void;
  /** Initialises a device as `selectInitInfo` would; its own call then answers 902. */
  registerDevice(identity: DeviceIdentity): { sdcId: string; mrcNo: string };
}

export interface VsdcSimulator {
  /** Base URL of the endpoints (origin + base path): what a branch's VSDC URL setting holds. */
  url: string;
  origin: string;
  port: number;
  control: VsdcControl;
  /** Every request received (control calls excepted), live. */
  requests: readonly RecordedRequest[];
  /** Accepted invoices (sales and credit notes), in receipt order, live. */
  invoices: readonly AcceptedInvoice[];
  /** Accepted stock movements, live. */
  stockMovements: readonly AcceptedStockMovement[];
  /** The accepted invoice with that number (any device). */
  invoice(cisInvcNo: string): AcceptedInvoice | undefined;
  /** A JSON snapshot: devices, items, invoices, stock movements and levels. */
  state(): ReturnType<VsdcState['view']>;
  close(): Promise<void>;
}

/** Starts a ZRA Smart Invoice VSDC simulator (see the README's Simulators section). */
export async function startVsdcSimulator(options: VsdcSimulatorOptions = {}): Promise<VsdcSimulator> {
  const basePath = `/${(options.basePath ?? '/zravsdc').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const offset = options.utcOffsetMinutes ?? 120;
  const now = () => compactDateTime(new Date(), offset);
  const kit = new SimulatorKit();
  const state = new VsdcState();
  const initialDevices = (options.devices ?? []).map((d) => deviceSchema.parse(d));
  const registerInitial = () => initialDevices.forEach((d) => state.addDevice(d, now()));
  registerInitial();

  const rates = Object.fromEntries(
    (Object.keys(VAT_CATEGORIES) as VatCategory[]).map((c) => [c, options.vatRates?.[c] ?? VAT_CATEGORIES[c].rate]),
  ) as Record<VatCategory, number>;
  const ctx: VsdcContext = {
    state,
    rates,
    tolerance: new Decimal(options.tolerance ?? 0.01),
    now,
    receiptLinkBase: options.receiptLinkBase ?? '',
    allowedDevices: options.allowedDevices && new Set(options.allowedDevices.map(deviceKey)),
    itemClassPageSize: options.itemClassPageSize ?? 1000,
  };
  const envelope = (answer: VsdcAnswer): SimResponse => ({ status: 200, body: { resultCd: answer.resultCd, resultMsg: answer.resultMsg, resultDt: now(), data: answer.data ?? null } });

  const routes: Route[] = Object.entries(VSDC_ENDPOINTS).map(([path, handler]) => ({
    method: 'POST',
    path: `${basePath}${path}`,
    handle: (req) => {
      if (req.jsonError || req.json === undefined) {
        return envelope({ ...RESULT.noRequestText, resultMsg: `${RESULT.noRequestText.resultMsg}: the body must be a JSON object` });
      }
      return envelope(handler(ctx, req.json));
    },
  }));
  routes.push({
    method: 'GET',
    path: '/common/link/ebm/receipt/indexEbmReceiptData',
    handle: (req) => {
      const data = req.query.get('Data') ?? '';
      const found = state.invoices.find((i) => `${i.tpin}${i.bhfId}${i.receipt.rcptSign}` === data);
      return found ? { status: 200, body: { tpin: found.tpin, bhfId: found.bhfId, cisInvcNo: found.cisInvcNo, rcptTyCd: found.rcptTyCd, totAmt: found.payload.totAmt, ...found.receipt } } : { status: 404, body: { error: 'no such receipt' } };
    },
  });

  const control: VsdcControl = {
    ...kit.baseControl(() => {
      state.reset();
      registerInitial();
    }),
    resultCode: (input) => {
      const { code, message, ...scope } = resultCodeSchema.parse(input);
      const known = Object.values(RESULT).find((r) => r.resultCd === code);
      kit.faults.respond({ ...scope, path: scope.path ?? (basePath || undefined), status: 200, body: { resultCd: code, resultMsg: message ?? known?.resultMsg ?? 'Simulated error', resultDt: now(), data: null } });
    },
    registerDevice: (identity) => {
      const d = deviceSchema.parse(identity);
      const device = state.devices.get(deviceKey(d)) ?? state.addDevice(d, now());
      return { sdcId: device.sdcId, mrcNo: device.mrcNo };
    },
  };

  const served = await serve({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    routes,
    ...kit,
    control: controlEndpoint(control, { requests: () => kit.recorder.requests, state: () => state.view() }),
    notFound: (req) => (req.path.startsWith(`${basePath}/`) ? envelope({ resultCd: '999', resultMsg: `no such VSDC endpoint: ${req.path.slice(basePath.length)}` }) : { status: 404, body: { error: `no such endpoint: ${req.path}` } }),
  });
  ctx.receiptLinkBase = options.receiptLinkBase ?? served.origin;

  return {
    url: `${served.origin}${basePath}`,
    origin: served.origin,
    port: served.port,
    control,
    requests: kit.recorder.requests,
    invoices: state.invoices,
    stockMovements: state.stockMovements,
    invoice: (cisInvcNo) => state.invoices.find((i) => i.cisInvcNo === cisInvcNo),
    state: () => state.view(),
    close: served.close,
  };
}
