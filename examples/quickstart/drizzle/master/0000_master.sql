CREATE TABLE `domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`is_primary` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`tenant_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `domains_tenant_id_idx` ON `domains` (`tenant_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `domains_one_primary_idx` ON `domains` (`tenant_id`) WHERE "domains"."is_primary" = 1;--> statement-breakpoint
CREATE TABLE `projects` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`tenant_id` text DEFAULT (omnitenant_tenant()) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `projects_tenant_id_idx` ON `projects` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`title` text NOT NULL,
	`done` integer DEFAULT false NOT NULL,
	`tenant_id` text DEFAULT (omnitenant_tenant()) NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tasks_tenant_id_idx` ON `tasks` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `tasks_project_idx` ON `tasks` (`project_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`isolation` text NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	CONSTRAINT "tenants_tenant_id_format" CHECK(length("tenants"."tenant_id") between 1 and 63 and "tenants"."tenant_id" not glob '*[^a-z0-9-]*' and "tenants"."tenant_id" not glob '-*' and "tenants"."tenant_id" not glob '*-'),
	CONSTRAINT "tenants_isolation_mode" CHECK("tenants"."isolation" in ('database', 'table'))
);
