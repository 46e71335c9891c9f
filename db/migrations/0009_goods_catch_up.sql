ALTER TABLE `good_requests` ADD `bid_at` integer;--> statement-breakpoint
ALTER TABLE `loans` ADD `overdue_at` integer;--> statement-breakpoint
ALTER TABLE `productions` ADD `task_id` integer REFERENCES tasks(id);--> statement-breakpoint
CREATE UNIQUE INDEX `productions_task` ON `productions` (`task_id`);