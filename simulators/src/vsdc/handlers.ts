import Decimal from 'decimal.js';
import type { z } from 'zod';
import { CODE_CLASSES, ITEM_CLASSES, RESULT, TAX_TYPE_CLASS, VAT_CATEGORIES, type VatCategory } from './codes';
import { saveSales, type SalesContext, type VsdcAnswer } from './sales';
import {
  describeIssues,
  identitySchema,
  lastRequestSchema,
  saleSchema,
  saveItemSchema,
  stockItemsSchema,
  stockMasterSchema,
  updateItemSchema,
  type Sale,
} from './schemas';
import { deviceKey, type Device } from './state';

/** Code tables and item classes are dated once: a client that synced after this gets 001. */
export const CODES_UPDATED_AT = '20240101000000';

export interface VsdcContext extends SalesContext {
  /** When set, only these devices (`tpin/bhfId/dvcSrlNo`) may initialise. */
  allowedDevices?: ReadonlySet<string>;
  itemClassPageSize: number;
}

type Handler = (ctx: VsdcContext, body: unknown) => VsdcAnswer;

const parameterError = (problems: string[]): VsdcAnswer => ({ resultCd: RESULT.parameterError.resultCd, resultMsg: problems.join('; ') });

function parse<T extends z.ZodType>(schema: T, body: unknown): { ok: true; value: z.infer<T> } | { ok: false; answer: VsdcAnswer } {
  const r = schema.safeParse(body);
  return r.success ? { ok: true, value: r.data } : { ok: false, answer: parameterError(describeIssues(r.error)) };
}

/** Every call but the first names an initialised device; the full body is parsed only then. */
function withDevice<T extends z.ZodType>(schema: T, run: (ctx: VsdcContext, device: Device, value: z.infer<T>) => VsdcAnswer): Handler {
  return (ctx, body) => {
    const identity = parse(identitySchema, body);
    if (!identity.ok) return identity.answer;
    const device = ctx.state.devices.get(deviceKey(identity.value));
    if (!device) {
      return { ...RESULT.invalidDevice, resultMsg: `${RESULT.invalidDevice.resultMsg}: ${deviceKey(identity.value)} is not initialised (selectInitInfo first)` };
    }
    const parsed = parse(schema, body);
    return parsed.ok ? run(ctx, device, parsed.value) : parsed.answer;
  };
}

const selectInitInfo: Handler = (ctx, body) => {
  const parsed = parse(identitySchema, body);
  if (!parsed.ok) return parsed.answer;
  const identity = { tpin: parsed.value.tpin, bhfId: parsed.value.bhfId, dvcSrlNo: parsed.value.dvcSrlNo };
  if (ctx.allowedDevices && !ctx.allowedDevices.has(deviceKey(identity))) {
    return { ...RESULT.invalidDevice, resultMsg: `${RESULT.invalidDevice.resultMsg}: ${deviceKey(identity)} is not a device ZRA issued` };
  }
  if (ctx.state.devices.has(deviceKey(identity))) return { ...RESULT.deviceInstalled };
  const device = ctx.state.addDevice(identity, ctx.now());
  return {
    ...RESULT.ok,
    data: {
      info: {
        tpin: device.tpin,
        taxprNm: `SIMULATED TAXPAYER ${device.tpin}`,
        bsnsActv: 'Retail sale of pharmaceutical goods',
        bhfId: device.bhfId,
        bhfNm: device.bhfId === '000' ? 'Headquarter' : `Branch ${device.bhfId}`,
        bhfOpenDt: '20240101',
        prvncNm: 'LUSAKA',
        dstrtNm: 'LUSAKA',
        sctrNm: 'LUSAKA CENTRAL',
        locDesc: 'Simulated VSDC',
        hqYn: device.bhfId === '000' ? 'Y' : 'N',
        mgrNm: 'Simulator',
        mgrTelNo: '0211000000',
        mgrEmail: 'vsdc@simulator.invalid',
        sdcId: device.sdcId,
        mrcNo: device.mrcNo,
        vatTyCd: '1',
        lastPchsInvcNo: 0,
        lastSaleRcptNo: 0,
        lastInvcNo: 0,
        lastSaleInvcNo: 0,
        lastTrainInvcNo: 0,
        lastProfrmInvcNo: 0,
        lastCopyInvcNo: 0,
      },
    },
  };
};

const selectCodes = withDevice(lastRequestSchema, (ctx, _device, { lastReqDt }) => {
  if (lastReqDt >= CODES_UPDATED_AT) return { ...RESULT.noSearchResult };
  const taxTypes = (Object.keys(VAT_CATEGORIES) as VatCategory[]).map((cat) => [cat, VAT_CATEGORIES[cat].name, String(ctx.rates[cat])] as const);
  const classes = [{ ...TAX_TYPE_CLASS, codes: taxTypes }, ...Object.values(CODE_CLASSES)];
  return {
    ...RESULT.ok,
    data: {
      clsList: classes.map((c) => ({
        cdCls: c.cdCls,
        cdClsNm: c.cdClsNm,
        cdClsDesc: null,
        useYn: 'Y',
        dtlList: c.codes.map(([cd, cdNm, userDfnCd1], i) => ({ cd, cdNm, cdDesc: cdNm, useYn: 'Y', srtOrd: i + 1, userDfnCd1: userDfnCd1 ?? null })),
      })),
    },
  };
});

/** Item classes in pages of `itemClassPageSize`; the next page is asked with the last `useUpdDt` seen. */
const selectItemsClass = withDevice(lastRequestSchema, (ctx, _device, { lastReqDt }) => {
  const page = itemClasses()
    .filter((c) => c.useUpdDt > lastReqDt)
    .slice(0, ctx.itemClassPageSize);
  return page.length === 0 ? { ...RESULT.noSearchResult } : { ...RESULT.ok, data: { itemClsList: page } };
});

function itemClasses() {
  const start = Date.UTC(2024, 0, 1);
  return ITEM_CLASSES.map(([itemClsCd, itemClsNm, itemClsLvl, taxTyCd], i) => {
    const d = new Date(start + (i + 1) * 1000).toISOString();
    return { itemClsCd, itemClsNm, itemClsLvl, taxTyCd, mjrTgYn: 'N', useYn: 'Y', useUpdDt: d.slice(0, 19).replace(/[-T:]/g, '') };
  });
}
const KNOWN_CLASSES = new Set(ITEM_CLASSES.map(([cd]) => cd));

const saveItem = withDevice(saveItemSchema, (ctx, device, item) => {
  if (!KNOWN_CLASSES.has(item.itemClsCd)) return parameterError([`itemClsCd: ${item.itemClsCd} is not an item class (see /itemClass/selectItemsClass)`]);
  const items = ctx.state.branchItems(device.tpin, device.bhfId);
  if (items.has(item.itemCd)) return { ...RESULT.overlapped, resultMsg: `${RESULT.overlapped.resultMsg}: item ${item.itemCd} is already registered (updateItem changes it)` };
  const now = ctx.now();
  items.set(item.itemCd, { tpin: device.tpin, bhfId: device.bhfId, item, registeredAt: now, updatedAt: now, updates: 0 });
  return { ...RESULT.ok };
});

const updateItem = withDevice(updateItemSchema, (ctx, device, item) => {
  if (!KNOWN_CLASSES.has(item.itemClsCd)) return parameterError([`itemClsCd: ${item.itemClsCd} is not an item class (see /itemClass/selectItemsClass)`]);
  const registered = ctx.state.branchItems(device.tpin, device.bhfId).get(item.itemCd);
  if (!registered) return parameterError([`itemCd: ${item.itemCd} is not registered on this branch (saveItem first)`]);
  registered.item = { ...item, regrId: registered.item.regrId, regrNm: registered.item.regrNm };
  registered.updatedAt = ctx.now();
  registered.updates += 1;
  return { ...RESULT.ok };
});

const selectItems = withDevice(lastRequestSchema, (ctx, device, { lastReqDt }) => {
  const changed = [...ctx.state.branchItems(device.tpin, device.bhfId).values()].filter((r) => r.updatedAt > lastReqDt);
  if (changed.length === 0) return { ...RESULT.noSearchResult };
  const itemList = changed.map(({ item }) => {
    const { dvcSrlNo: _serial, bhfId: _branch, ...fields } = item;
    return fields;
  });
  return { ...RESULT.ok, data: { itemList } };
});

const saveSalesHandler = withDevice(saleSchema, (ctx, device, sale) => saveSales(ctx, device, sale as Sale));

/** Stock movements, idempotent by `sarNo` per device like invoices are by `cisInvcNo`. */
const saveStockItems = withDevice(stockItemsSchema, (ctx, device, movement) => {
  const previous = ctx.state.stockMovements.find((m) => m.sarNo === movement.sarNo && deviceKey(m) === deviceKey(device));
  if (previous) {
    if (JSON.stringify(previous.payload.itemList) !== JSON.stringify(movement.itemList) || previous.payload.sarTyCd !== movement.sarTyCd) {
      return { ...RESULT.overlapped, resultMsg: `${RESULT.overlapped.resultMsg}: sarNo ${movement.sarNo} was already used for a different movement` };
    }
    previous.duplicates += 1;
    return { ...RESULT.ok };
  }
  const near = (a: Decimal.Value, b: Decimal.Value) => new Decimal(a).minus(b).abs().lte(ctx.tolerance);
  const items = ctx.state.branchItems(device.tpin, device.bhfId);
  const problems: string[] = [];
  if (movement.totItemCnt !== movement.itemList.length) problems.push(`totItemCnt: ${movement.totItemCnt} but itemList has ${movement.itemList.length} lines`);
  const sums = { taxable: new Decimal(0), tax: new Decimal(0), total: new Decimal(0) };
  movement.itemList.forEach((line, i) => {
    const at = `itemList[${i}]`;
    if (line.itemSeq !== i + 1) problems.push(`${at}.itemSeq: expected ${i + 1}, got ${line.itemSeq}`);
    if (!items.has(line.itemCd)) problems.push(`${at}.itemCd: ${line.itemCd} is not registered on this branch (saveItem first)`);
    if (!near(new Decimal(line.taxblAmt).plus(line.taxAmt), line.totAmt)) problems.push(`${at}.totAmt: taxblAmt + taxAmt is ${new Decimal(line.taxblAmt).plus(line.taxAmt).toFixed(4)}, got ${line.totAmt}`);
    sums.taxable = sums.taxable.plus(line.taxblAmt);
    sums.tax = sums.tax.plus(line.taxAmt);
    sums.total = sums.total.plus(line.totAmt);
  });
  if (!near(movement.totTaxblAmt, sums.taxable)) problems.push(`totTaxblAmt: the lines add up to ${sums.taxable.toFixed(4)}, got ${movement.totTaxblAmt}`);
  if (!near(movement.totTaxAmt, sums.tax)) problems.push(`totTaxAmt: the lines add up to ${sums.tax.toFixed(4)}, got ${movement.totTaxAmt}`);
  if (!near(movement.totAmt, sums.total)) problems.push(`totAmt: the lines add up to ${sums.total.toFixed(4)}, got ${movement.totAmt}`);
  if (problems.length > 0) return parameterError(problems);
  ctx.state.stockMovements.push({ tpin: device.tpin, bhfId: device.bhfId, dvcSrlNo: device.dvcSrlNo, sarNo: movement.sarNo, payload: movement, duplicates: 0, acceptedAt: ctx.now() });
  return { ...RESULT.ok };
});

const saveStockMaster = withDevice(stockMasterSchema, (ctx, device, master) => {
  const items = ctx.state.branchItems(device.tpin, device.bhfId);
  const problems = master.stockItemList.flatMap((s, i) => (items.has(s.itemCd) ? [] : [`stockItemList[${i}].itemCd: ${s.itemCd} is not registered on this branch (saveItem first)`]));
  if (problems.length > 0) return parameterError(problems);
  const now = ctx.now();
  for (const s of master.stockItemList) ctx.state.setStockLevel({ tpin: device.tpin, bhfId: device.bhfId, itemCd: s.itemCd, rsdQty: s.rsdQty, updatedAt: now });
  return { ...RESULT.ok };
});

/** The endpoints, relative to the base path. */
export const VSDC_ENDPOINTS: Record<string, Handler> = {
  '/initializer/selectInitInfo': selectInitInfo,
  '/code/selectCodes': selectCodes,
  '/itemClass/selectItemsClass': selectItemsClass,
  '/items/saveItem': saveItem,
  '/items/updateItem': updateItem,
  '/items/selectItems': selectItems,
  '/trnsSales/saveSales': saveSalesHandler,
  '/stock/saveStockItems': saveStockItems,
  '/stockMaster/saveStockMaster': saveStockMaster,
};
