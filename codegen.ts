import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Resolver types per subgraph, from its SDL (the source of truth): a resolver whose arguments or
 * return type drift from the schema fails the type check. Mappers name the row types the services
 * return for each GraphQL type, so parents are typed as what is really passed down.
 * Written to subgraphs/<name>/src/generated/ by `npm run generate` (never edited, not committed).
 */
const TENANT = '@umi/db/tenant-models';
const SHARED = '@umi/db/shared-models';

const common = {
  federation: true,
  useTypeImports: true,
  enumsAsTypes: true,
  useIndexSignature: false,
  maybeValue: 'T | null',
  inputMaybeValue: 'T | null | undefined',
  scalars: {
    ID: { input: 'string', output: 'string' },
    Decimal: { input: 'string', output: 'string | { toFixed(dp: number): string }' },
    Date: { input: 'string', output: 'string | Date' },
    DateTime: { input: 'Date', output: 'Date | string' },
    JSON: { input: 'unknown', output: 'unknown' },
  },
};

const mappers: Record<string, Record<string, string>> = {
  tenant: {
    Tenant: `${SHARED}#Tenant as TenantRow`,
    Plan: `${SHARED}#Plan as PlanRow`,
    Branch: `${SHARED}#Branch as BranchRow`,
    User: `${SHARED}#User as UserRow`,
    AuditLog: `${TENANT}#AuditLog as AuditLogRow`,
  },
  pharmacy: {
    Patient: `${TENANT}#Patient as PatientRow`,
    Prescription: `${TENANT}#Prescription as PrescriptionRow`,
    PrescriptionItem: `${TENANT}#PrescriptionItem as PrescriptionItemRow`,
    InteractionRule: `${TENANT}#InteractionRule as InteractionRuleRow`,
    // Rows of the subgraph's own joins (fills with their batch, register lines with their movement)
    // and the warnings a check returns or the alerts it stored.
    DispensedItem: '../loaders#DispensedRow',
    ControlledRegisterLine: '../services/register#RegisterRow',
    SafetyWarning: '../services/safety#WarningRow',
    // The register export's pages and balances, and a recall's findings.
    ControlledRegisterExport: '../services/register#RegisterExport',
    RegisterBalance: '../services/register#RegisterBalanceRow',
    BatchRecall: '../services/recall#BatchRecallResult',
    RecallBatch: '../services/recall#RecallBatchRow',
    RecallMovement: '../services/recall#RecallMovementRow',
  },
  inventory: {
    Product: `${TENANT}#Product as ProductRow`,
    InventoryBatch: `${TENANT}#InventoryBatch as InventoryBatchRow`,
    StockMovement: `${TENANT}#StockMovement as StockMovementRow`,
    StockTransfer: `${TENANT}#StockTransfer as StockTransferRow`,
    Supplier: `${TENANT}#Supplier as SupplierRow`,
    PurchaseOrder: `${TENANT}#PurchaseOrder as PurchaseOrderRow`,
    PurchaseOrderItem: `${TENANT}#PurchaseOrderItem as PurchaseOrderItemRow`,
    StockTransferLine: `${TENANT}#StockTransferItem as StockTransferItemRow`,
    StockLevel: '../loaders#StockRow',
    LowStockAlert: '../services/stock#LowStockEvent',
    Branch: '@umi/subgraph#EntityRef',
  },
  pos: {
    Sale: `${TENANT}#Sale as SaleRow`,
    SaleItem: `${TENANT}#SaleItem as SaleItemRow`,
    Payment: `${TENANT}#Payment as PaymentRow`,
    PaymentAttempt: `${TENANT}#PaymentAttempt as PaymentAttemptRow`,
    MobileMoneySettings: '../services/mobile-money/settings#SettingsView',
    MobileMoneyReconciliation: '../services/mobile-money/reconciliation#ReconciliationData',
    Refund: `${TENANT}#Refund as RefundRow`,
    RefundItem: '../loaders#RefundItemRow',
    ZReport: '../services/tills#ZReportData',
    Till: `${TENANT}#Till as TillRow`,
    TillSession: `${TENANT}#TillSession as TillSessionRow`,
    Patient: '@umi/subgraph#EntityRef',
  },
};

const contexts: Record<string, string> = {
  tenant: '../context#TenantContext',
  pharmacy: '../context#PharmacyContext',
  inventory: '../context#InventoryContext',
  pos: '../context#PosContext',
};

/**
 * The typed client: typed documents (TypedDocumentNode) of the portals' operations and the
 * dashboard's, over the API schema (clients/generated/schema.graphql, printed from the supergraph by
 * `npm run generate`). `persisted-documents.json` beside them is the trusted-operations manifest
 * (sha256 of each document -> the document) that the gateway accepts hashes from.
 */
const typedClient: CodegenConfig['generates'] = {
  'clients/src/generated/typed/': {
    schema: 'clients/generated/schema.graphql',
    documents: ['clients/operations/*.graphql', 'dashboard/operations/*.graphql'],
    preset: 'client',
    presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256', mode: 'embedHashInDocument' } },
    config: {
      useTypeImports: true,
      enumsAsTypes: true,
      scalars: {
        Decimal: { input: 'string', output: 'string' },
        Date: { input: 'string', output: 'string' },
        DateTime: { input: 'string', output: 'string' },
        JSON: { input: 'unknown', output: 'unknown' },
      },
    },
  },
};

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: {
    ...Object.fromEntries(
      Object.keys(mappers).map((name) => [
        `subgraphs/${name}/src/generated/resolvers.ts`,
        {
          schema: `subgraphs/${name}/schema.graphql`,
          plugins: [{ add: { content: '/* Generated by GraphQL Code Generator from ../../schema.graphql (npm run generate): do not edit. */' } }, 'typescript', 'typescript-resolvers'],
          config: { ...common, contextType: contexts[name], mappers: mappers[name] },
        },
      ]),
    ),
    ...typedClient,
  },
};

export default config;
