import { createHmac, randomBytes } from 'node:crypto';
import type { ItemRequest, Sale, StockItems } from './schemas';

/** A VSDC device, registered by `selectInitInfo`. */
export interface Device {
  tpin: string;
  bhfId: string;
  dvcSrlNo: string;
  sdcId: string;
  mrcNo: string;
  initializedAt: string;
  /** The last receipt number given: one sequence per device, sales and credit notes alike. */
  lastRcptNo: number;
  /** Signs the receipts of this device (the real VSDC gets its keys from ZRA at initialisation). */
  key: Buffer;
}

/** The receipt data the VSDC answers for an accepted invoice, and the platform prints. */
export interface FiscalReceipt {
  rcptNo: number;
  intrlData: string;
  rcptSign: string;
  vsdcRcptPbctDate: string;
  sdcId: string;
  mrcNo: string;
  qrCodeUrl: string;
}

export interface RegisteredItem {
  tpin: string;
  bhfId: string;
  item: ItemRequest;
  registeredAt: string;
  updatedAt: string;
  /** How many `updateItem` calls changed it. */
  updates: number;
}

export interface AcceptedInvoice {
  tpin: string;
  bhfId: string;
  dvcSrlNo: string;
  cisInvcNo: string;
  rcptTyCd: string;
  orgInvcNo: number;
  /** The request body exactly as received, for field-by-field assertions. */
  payload: Sale;
  receipt: FiscalReceipt;
  /** Times the same invoice came again and got the same receipt back. */
  duplicates: number;
  acceptedAt: string;
  /** The fiscal content (type, original, totals, lines): a replay must carry the same. */
  fingerprint: string;
}

export interface AcceptedStockMovement {
  tpin: string;
  bhfId: string;
  dvcSrlNo: string;
  sarNo: number;
  payload: StockItems;
  duplicates: number;
  acceptedAt: string;
}

export interface StockLevel {
  tpin: string;
  bhfId: string;
  itemCd: string;
  rsdQty: number;
  updatedAt: string;
}

const branchKey = (tpin: string, bhfId: string) => `${tpin}/${bhfId}`;
export const deviceKey = (d: { tpin: string; bhfId: string; dvcSrlNo: string }) => `${d.tpin}/${d.bhfId}/${d.dvcSrlNo}`;

/** Everything a VSDC remembers, in memory; `reset()` forgets it all. */
export class VsdcState {
  readonly devices = new Map<string, Device>();
  /** By branch, then item code: items are registered per taxpayer branch. */
  readonly items = new Map<string, Map<string, RegisteredItem>>();
  /** In acceptance order. */
  readonly invoices: AcceptedInvoice[] = [];
  readonly stockMovements: AcceptedStockMovement[] = [];
  readonly stockLevels = new Map<string, StockLevel>();
  private deviceCount = 0;

  reset(): void {
    this.devices.clear();
    this.items.clear();
    this.invoices.length = 0;
    this.stockMovements.length = 0;
    this.stockLevels.clear();
    this.deviceCount = 0;
  }

  addDevice(identity: { tpin: string; bhfId: string; dvcSrlNo: string }, at: string): Device {
    this.deviceCount += 1;
    const device: Device = {
      ...identity,
      sdcId: `SDC001${String(this.deviceCount).padStart(7, '0')}`,
      mrcNo: `WIS${String(this.deviceCount).padStart(8, '0')}`,
      initializedAt: at,
      lastRcptNo: 0,
      key: randomBytes(32),
    };
    this.devices.set(deviceKey(identity), device);
    return device;
  }

  branchItems(tpin: string, bhfId: string): Map<string, RegisteredItem> {
    const key = branchKey(tpin, bhfId);
    let items = this.items.get(key);
    if (!items) this.items.set(key, (items = new Map()));
    return items;
  }

  invoice(device: Device, cisInvcNo: string): AcceptedInvoice | undefined {
    return this.invoices.find((i) => i.cisInvcNo === cisInvcNo && deviceKey(i) === deviceKey(device));
  }

  /** A sale receipt of the branch with that receipt number, whichever of its devices issued it. */
  originalSale(tpin: string, bhfId: string, rcptNo: number): AcceptedInvoice | undefined {
    return this.invoices.find((i) => i.tpin === tpin && i.bhfId === bhfId && i.rcptTyCd === 'S' && i.receipt.rcptNo === rcptNo);
  }

  stockLevel(tpin: string, bhfId: string, itemCd: string): StockLevel | undefined {
    return this.stockLevels.get(`${branchKey(tpin, bhfId)}/${itemCd}`);
  }

  setStockLevel(level: StockLevel): void {
    this.stockLevels.set(`${branchKey(level.tpin, level.bhfId)}/${level.itemCd}`, level);
  }

  /** A JSON view for tests and `GET /__control/state` (device keys left out). */
  view() {
    return {
      devices: [...this.devices.values()].map(({ key: _key, ...d }) => d),
      items: [...this.items.values()].flatMap((m) => [...m.values()]),
      invoices: this.invoices,
      stockMovements: this.stockMovements,
      stockLevels: [...this.stockLevels.values()],
    };
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * Internal data (26 characters) and signature (16 characters), base32 like the VSDC family's,
 * derived from the device's key and the receipt: the same receipt always signs the same.
 */
export function signReceipt(device: Device, rcptNo: number, sale: Sale): { intrlData: string; rcptSign: string } {
  const content = [device.sdcId, rcptNo, sale.cisInvcNo, sale.rcptTyCd, sale.totAmt, sale.totTaxAmt].join('|');
  return {
    intrlData: base32(createHmac('sha256', device.key).update(`intrl|${content}`).digest(), 26),
    rcptSign: base32(createHmac('sha256', device.key).update(`sign|${content}`).digest(), 16),
  };
}
