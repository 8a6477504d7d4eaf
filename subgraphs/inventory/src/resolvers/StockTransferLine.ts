import type { StockTransferLineResolvers } from '../generated/resolvers';

export const StockTransferLine: StockTransferLineResolvers = {
  batchNumber: (i) => i.batchNumber ?? '',
};
