import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Principal } from '@umi/kit';
import type { GatewayContext } from './context';

/** Any of these scopes opens the coordinate; `*` is any scope at all. */
type Need = readonly string[] | '*';

const SALES: Need = ['sales:read'];
const STOCK: Need = ['stock:read'];
const STOCK_OR_RECEIVE: Need = ['stock:read', 'stock:receive'];

/**
 * What an API client may select, by schema coordinate (`Type.field`) or by whole type (`Type`):
 * deny by default, so a field added to the schema stays closed to partners until it is listed here.
 * Patients, prescriptions, users' details, tills and administration are never open to API clients.
 */
const POLICY: Record<string, Need> = {
  'Query.branches': '*',
  'Query.branch': '*',
  Branch: '*',
  'Branch.stock': STOCK,
  PageInfo: '*',
  'User.id': '*',
  'Query.product': ['catalogue:read'],
  'Query.productByBarcode': ['catalogue:read'],
  'Query.products': ['catalogue:read'],
  ProductConnection: ['catalogue:read'],
  ProductEdge: ['catalogue:read'],
  Product: '*',
  'Product.stock': STOCK,
  'Product.batches': STOCK,
  StockLevel: STOCK,
  'Query.expiringBatches': STOCK,
  'Query.stockMovements': STOCK,
  'Query.lowStockEvent': STOCK,
  'Subscription.lowStockAlert': STOCK,
  LowStockAlert: STOCK,
  StockMovement: STOCK,
  StockMovementEdge: STOCK,
  StockMovementConnection: STOCK,
  InventoryBatch: STOCK_OR_RECEIVE,
  Supplier: STOCK_OR_RECEIVE,
  'Mutation.receiveStock': ['stock:receive'],
  'Query.sale': SALES,
  'Query.sales': SALES,
  'Query.salesReport': SALES,
  'Subscription.saleCompleted': SALES,
  Sale: SALES,
  SaleItem: SALES,
  TaxLine: SALES,
  Payment: SALES,
  Receipt: SALES,
  Refund: SALES,
  RefundItem: SALES,
  SaleEdge: SALES,
  SaleConnection: SALES,
  SalesReport: SALES,
  DailySales: SALES,
  ProductSales: SALES,
};

function allows(need: Need | undefined, scopes: readonly string[]): boolean {
  if (!need) return false;
  return need === '*' ? scopes.length > 0 : need.some((s) => scopes.includes(s));
}

/** The coordinates of `document` that `scopes` do not open (empty: the client may run it). */
export function scopeViolations(schema: GraphQLSchema, document: DocumentNode, scopes: readonly string[]): string[] {
  const typeInfo = new TypeInfo(schema);
  const refused = new Set<string>();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const name = node.name.value;
        if (!parent || name.startsWith('__') || parent.name.startsWith('__')) return undefined;
        const coordinate = `${parent.name}.${name}`;
        const need = POLICY[coordinate] ?? POLICY[parent.name];
        if (allows(need, scopes)) return undefined;
        refused.add(coordinate);
        return false; // what lies below a refused field is refused with it
      },
    }),
  );
  return [...refused];
}

export function scopeError(refused: readonly string[]): GraphQLError {
  return new GraphQLError(`The API client's scopes do not cover: ${refused.join(', ')}`, {
    extensions: { code: 'FORBIDDEN', reason: 'SCOPE_MISSING', refused, http: { status: 403 } },
  });
}

/** Checks every operation of an API client (a principal with scopes) against its scopes before it runs. */
export function scopePolicy(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, schema }) {
          const scopes = (contextValue.principal as Principal | null)?.scopes;
          if (!scopes) return;
          const refused = scopeViolations(schema, document, scopes);
          if (refused.length) throw scopeError(refused);
        },
      };
    },
  };
}
