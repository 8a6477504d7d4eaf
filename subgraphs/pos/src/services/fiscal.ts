import { z } from 'zod';
import { ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, sql, tables } from '@umi/db';
import type { FiscalDocument } from '@umi/db/tenant-models';
import { requireTenant } from '@umi/subgraph';
import { auditOf, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { CREDIT_NOTE_REASONS, VAT_CATEGORY_CODES, type CreditNoteReason } from '../fiscal/codes';
import { FISCAL_KEYS, readFiscalSettings, type FiscalSettings } from '../fiscal/settings';
import { PosReason } from '../reasons';

/** A fiscal document as the API shows it (FiscalReceipt). */
export interface FiscalReceiptView {
  status: 'NOT_REQUIRED' | 'PENDING' | 'FISCALISED' | 'REJECTED';
  receiptType: 'S' | 'R';
  invoiceNumber: string | null;
  receiptNumber: string | null;
  originalReceiptNumber: string | null;
  creditNoteReason: CreditNoteReason | null;
  internalData: string | null;
  signature: string | null;
  sdcId: string | null;
  mrcNumber: string | null;
  vsdcTime: string | null;
  fiscalisedAt: Date | null;
  qrContent: string | null;
  attempts: number;
  lastError: string | null;
}

const REASON_BY_CODE = Object.fromEntries(Object.entries(CREDIT_NOTE_REASONS).map(([name, code]) => [code, name])) as Record<string, CreditNoteReason>;

/** The view of a document (null: NOT_REQUIRED); `original` is the sale's document, for a credit note's orgInvcNo. */
export function fiscalView(doc: FiscalDocument | null | undefined, type: 'S' | 'R', original?: FiscalDocument | null): FiscalReceiptView {
  return {
    status: (doc?.status as FiscalReceiptView['status'] | undefined) ?? 'NOT_REQUIRED',
    receiptType: type,
    invoiceNumber: doc?.invoiceNumber ?? null,
    receiptNumber: doc?.receiptNumber != null ? doc.receiptNumber.toString() : null,
    originalReceiptNumber: type === 'R' && original?.receiptNumber != null ? original.receiptNumber.toString() : null,
    creditNoteReason: doc?.reasonCode ? (REASON_BY_CODE[doc.reasonCode] ?? null) : null,
    internalData: doc?.internalData ?? null,
    signature: doc?.signature ?? null,
    sdcId: doc?.sdcId ?? null,
    mrcNumber: doc?.mrcNumber ?? null,
    vsdcTime: doc?.vsdcTime ?? null,
    fiscalisedAt: doc?.fiscalisedAt ?? null,
    qrContent: doc?.qrContent ?? null,
    attempts: doc?.attempts ?? 0,
    lastError: doc?.lastError ?? null,
  };
}

/** The sale's invoice. */
export async function saleFiscal(ctx: PosContext, saleId: string): Promise<FiscalReceiptView> {
  const docs = await ctx.loaders.fiscalBySale.load(saleId);
  return fiscalView(docs.find((d) => d.kind === 'SALE'), 'S');
}

/** A refund's credit note. */
export async function refundFiscal(ctx: PosContext, refund: { id: string; saleId: string }): Promise<FiscalReceiptView> {
  const docs = await ctx.loaders.fiscalBySale.load(refund.saleId);
  return fiscalView(
    docs.find((d) => d.refundId === refund.id),
    'R',
    docs.find((d) => d.kind === 'SALE'),
  );
}

/** A branch's documents not yet fiscalised: how many, and the oldest one's age and last failure. */
export async function fiscalBacklog(ctx: PosContext, args: { branchId: string }) {
  const { db } = requireTenant(ctx);
  const branch = await requireBranch(ctx, parseInput(uuidSchema, args.branchId, 'branchId'), 'reports');
  const row = await db.sql.one<{ n: number; rejected: number; oldest_at: Date | null; age: number | null; invoice: string | null; error: string | null }>(
    sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected, min(created_at) AS oldest_at,
               floor(extract(epoch FROM now() - min(created_at)))::int AS age,
               (array_agg(invoice_number ORDER BY seq))[1] AS invoice, (array_agg(last_error ORDER BY seq))[1] AS error
        FROM ${tables.fiscal_documents} WHERE branch_id = ${branch.id}::uuid AND status <> 'FISCALISED'`,
  );
  return {
    branchId: branch.id,
    count: row.n,
    rejected: row.rejected,
    oldestAt: row.oldest_at,
    oldestAgeSeconds: row.age ?? 0,
    oldestInvoiceNumber: row.invoice,
    lastError: row.error,
  };
}

function settingsView(s: FiscalSettings, devices: { branchId: string; bhfId: string; deviceSerial: string; vsdcUrl: string; sdcId: string | null; mrcNumber: string | null; initialisedAt: Date | null }[]) {
  return {
    tpin: s.tpin,
    vatCategories: { standard: s.vatCategories.STANDARD, zeroRated: s.vatCategories.ZERO_RATED, exempt: s.vatCategories.EXEMPT },
    backlogAlertSeconds: s.backlogAlertSeconds,
    devices: devices.map(deviceView),
  };
}

function deviceView(d: { branchId: string; bhfId: string; deviceSerial: string; vsdcUrl: string; sdcId: string | null; mrcNumber: string | null; initialisedAt: Date | null }) {
  return { branchId: d.branchId, bhfId: d.bhfId, deviceSerial: d.deviceSerial, vsdcUrl: d.vsdcUrl, sdcId: d.sdcId, mrcNumber: d.mrcNumber, initialisedAt: d.initialisedAt };
}

export async function fiscalSettings(ctx: PosContext) {
  const { db } = requireTenant(ctx);
  const [settings, devices] = await Promise.all([readFiscalSettings(db.sql), db.fiscalDevice.findMany({ orderBy: { branchId: 'asc' } })]);
  return settingsView(settings, devices);
}

const vatCode = z.enum(VAT_CATEGORY_CODES as [string, ...string[]], { message: `must be one of ${VAT_CATEGORY_CODES.join(', ')}` });
const settingsSchema = z
  .object({
    tpin: z.string().trim().regex(/^\d{10}$/, 'must be the 10-digit ZRA TPIN').nullish(),
    vatCategories: z.object({ standard: vatCode.nullish(), zeroRated: vatCode.nullish(), exempt: vatCode.nullish() }).strict().nullish(),
    backlogAlertSeconds: z.number().int().min(1).max(604_800).nullish(),
  })
  .strict();

/** Sets the TPIN, the VAT mapping and the alert threshold (ADMIN), audited with the values before. */
export async function updateFiscalSettings(ctx: PosContext, input: unknown) {
  const { db, principal, tenant } = requireTenant(ctx);
  const data = parseInput(settingsSchema, input);
  return db.transaction(async (tx) => {
    const before = await readFiscalSettings(tx.sql);
    const upsert = (key: string, value: unknown) =>
      tx.tenantSetting.upsert({ where: { key }, create: { key, value: value as never, updatedBy: principal.userId }, update: { value: value as never, updatedBy: principal.userId } });
    if (data.tpin) await upsert(FISCAL_KEYS.tpin, data.tpin);
    if (data.backlogAlertSeconds) await upsert(FISCAL_KEYS.backlogAlertSeconds, data.backlogAlertSeconds);
    if (data.vatCategories) {
      const v = data.vatCategories;
      await upsert(FISCAL_KEYS.vatCategories, {
        STANDARD: v.standard ?? before.vatCategories.STANDARD,
        ZERO_RATED: v.zeroRated ?? before.vatCategories.ZERO_RATED,
        EXEMPT: v.exempt ?? before.vatCategories.EXEMPT,
      });
    }
    await recordAudit(tx, { ...auditOf(ctx), action: 'UPDATE', entityType: 'FiscalSettings', entityId: tenant.id, oldValues: before, newValues: data });
    return settingsView(await readFiscalSettings(tx.sql), await tx.fiscalDevice.findMany({ orderBy: { branchId: 'asc' } }));
  });
}

const deviceSchema = z
  .object({
    branchId: uuidSchema,
    bhfId: z.string().trim().regex(/^\d{3}$/, 'must be the 3-digit ZRA branch id, e.g. "000"'),
    deviceSerial: z.string().trim().min(1).max(100),
    vsdcUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(500),
  })
  .strict();

/** Sets a branch's VSDC device (ADMIN); a changed device is initialised and registers the products again. */
export async function configureFiscalDevice(ctx: PosContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(deviceSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'manage', 'input.branchId');
  return db.transaction(async (tx) => {
    const before = await tx.fiscalDevice.findUnique({ where: { branchId: branch.id } });
    const sameDevice = before && before.bhfId === data.bhfId && before.deviceSerial === data.deviceSerial && before.vsdcUrl === data.vsdcUrl;
    const device = await tx.fiscalDevice.upsert({
      where: { branchId: branch.id },
      create: { branchId: branch.id, bhfId: data.bhfId, deviceSerial: data.deviceSerial, vsdcUrl: data.vsdcUrl, updatedBy: principal.userId },
      update: sameDevice
        ? { updatedBy: principal.userId }
        : { bhfId: data.bhfId, deviceSerial: data.deviceSerial, vsdcUrl: data.vsdcUrl, sdcId: null, mrcNumber: null, initialisedAt: null, updatedBy: principal.userId },
    });
    // Another device knows none of our items.
    if (!sameDevice) await tx.fiscalItemRegistration.deleteMany({ where: { branchId: branch.id } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: before ? 'UPDATE' : 'CREATE',
      entityType: 'FiscalDevice',
      entityId: branch.id,
      branchId: branch.id,
      oldValues: before ? deviceView(before) : null,
      newValues: data,
    });
    return deviceView(device);
  });
}

const codesSchema = z
  .object({
    itemCode: z.string().trim().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be 1 to 100 letters, digits or dashes'),
    itemClassCode: z.string().trim().regex(/^\d{8,10}$/, 'must be an 8 to 10-digit ZRA item class'),
    packagingUnit: z.string().trim().regex(/^[A-Z0-9]{1,10}$/, 'must be a packaging unit code such as BX'),
    quantityUnit: z.string().trim().regex(/^[A-Z0-9]{1,10}$/, 'must be a quantity unit code such as U'),
    originCountry: z.string().trim().regex(/^[A-Z]{2}$/, 'must be a 2-letter country code').nullish(),
  })
  .strict();

function codesView(c: { productId: string; itemCode: string; itemClassCode: string; packagingUnit: string; quantityUnit: string; originCountry: string }) {
  return { productId: c.productId, itemCode: c.itemCode, itemClassCode: c.itemClassCode, packagingUnit: c.packagingUnit, quantityUnit: c.quantityUnit, originCountry: c.originCountry };
}

export async function productFiscalCodes(ctx: PosContext, args: { productId: string }) {
  const { db } = requireTenant(ctx);
  const row = await db.productFiscalCode.findUnique({ where: { productId: parseInput(uuidSchema, args.productId, 'productId') } });
  return row ? codesView(row) : null;
}

/** Sets a product's ZRA codes (ADMIN); the worker sends updateItem (or saveItem for a new code) to every device. */
export async function setProductFiscalCodes(ctx: PosContext, args: { productId: string; input: unknown }) {
  const { db, principal } = requireTenant(ctx);
  const productId = parseInput(uuidSchema, args.productId, 'productId');
  const data = parseInput(codesSchema, args.input);
  return db.transaction(async (tx) => {
    const product = await tx.product.findUnique({ where: { id: productId }, select: { id: true, deletedAt: true } });
    if (!product || product.deletedAt) throw new NotFoundError('Product', { field: 'productId' });
    const taken = await tx.productFiscalCode.findUnique({ where: { itemCode: data.itemCode } });
    if (taken && taken.productId !== productId) throw new ConflictError(`Item code ${data.itemCode} belongs to another product`, { field: 'input.itemCode' });
    const before = await tx.productFiscalCode.findUnique({ where: { productId } });
    const values = { ...data, originCountry: data.originCountry ?? 'ZM', updatedBy: principal.userId };
    const row = await tx.productFiscalCode.upsert({ where: { productId }, create: { productId, ...values }, update: values });
    await recordAudit(tx, { ...auditOf(ctx), action: before ? 'UPDATE' : 'CREATE', entityType: 'ProductFiscalCodes', entityId: productId, oldValues: before ? codesView(before) : null, newValues: data });
    return codesView(row);
  });
}

/** Queues a REJECTED document again, payload as frozen unless the cause was in it (ADMIN). */
export async function retryFiscalDocument(ctx: PosContext, args: { invoiceNumber: string }) {
  const { db } = requireTenant(ctx);
  const invoiceNumber = parseInput(z.string().trim().min(1).max(60), args.invoiceNumber, 'invoiceNumber');
  return db.transaction(async (tx) => {
    const doc = await tx.fiscalDocument.findUnique({ where: { invoiceNumber } });
    if (!doc) throw new NotFoundError('Fiscal document', { field: 'invoiceNumber' });
    await requireBranch(ctx, doc.branchId, 'manage', 'invoiceNumber');
    if (doc.status !== 'REJECTED') throw new ConflictError(`The document is ${doc.status}, not REJECTED`, { reason: PosReason.FISCAL_NOT_REJECTED });
    // Rebuilt from the sale as it is now (codes or mapping fixed since); the VSDC never accepted the old one.
    const updated = await tx.fiscalDocument.update({ where: { id: doc.id }, data: { status: 'PENDING', payload: undefined, nextAttemptAt: new Date(), lastError: null } });
    await tx.sql.execute(sql`UPDATE ${tables.fiscal_documents} SET payload = NULL WHERE id = ${doc.id}::uuid`);
    await recordAudit(tx, { ...auditOf(ctx), action: 'RETRY', entityType: 'FiscalDocument', entityId: doc.id, branchId: doc.branchId, oldValues: { status: doc.status, lastError: doc.lastError }, newValues: { status: 'PENDING' } });
    const original = doc.kind === 'CREDIT_NOTE' ? await tx.fiscalDocument.findFirst({ where: { saleId: doc.saleId, kind: 'SALE' } }) : null;
    return fiscalView({ ...updated, payload: null }, doc.kind === 'SALE' ? 'S' : 'R', original);
  });
}
