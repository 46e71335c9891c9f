DROP INDEX `entries_from`;--> statement-breakpoint
DROP INDEX `entries_to`;--> statement-breakpoint
DROP INDEX `entries_pool`;--> statement-breakpoint
CREATE INDEX `entries_from` ON `entries` (`from_account`,`amount`);--> statement-breakpoint
CREATE INDEX `entries_to` ON `entries` (`to_account`,`amount`);--> statement-breakpoint
CREATE INDEX `entries_pool` ON `entries` (`pool_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `claims_verified` ON `claims` (`verified_at`);--> statement-breakpoint
CREATE INDEX `claims_claimed` ON `claims` (`claimed_at`);--> statement-breakpoint
CREATE INDEX `claims_entry` ON `claims` (`entry_id`);--> statement-breakpoint
CREATE INDEX `good_requests_made` ON `good_requests` (`good_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_cancelled` ON `tasks` (`cancelled_at`) WHERE "tasks"."cancelled_at" IS NOT NULL;