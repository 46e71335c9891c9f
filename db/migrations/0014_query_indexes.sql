CREATE INDEX `replies_created` ON `replies` (`created_at`);--> statement-breakpoint
CREATE INDEX `requests_created` ON `requests` (`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_open` ON `tasks` (`pool_id`) WHERE "tasks"."open_since" IS NOT NULL;