/** Row types of the shared schema's tables, as Prisma returns them (the mappers of the GraphQL types). */
export type { Plan, Tenant, Branch, User, UserBranch, Subscription, SystemSetting, RefreshToken, ApiClient } from './generated/shared/client';
