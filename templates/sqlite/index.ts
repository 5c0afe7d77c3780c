// The app's databases.
//   tenantDb()  the current tenant's typed Drizzle database (inside omni.withTenant(), TenantContext.use()
//               or the omnitenant middleware), e.g. tenantDb().query.projects.findMany({ with: { tasks: true } })
//   masterDb()  the master database: tenants, domains and your own master tables
//   omni        everything else: createTenant, listTenants, migrateTenants, withTenant, close...

import config from "__CONFIG__";
import { createOmnitenant } from "omnitenant/sqlite";

export const omni = createOmnitenant(config);
export const { tenantDb, masterDb } = omni;
