DROP INDEX `loans_good`;--> statement-breakpoint
CREATE INDEX `loans_good` ON `loans` (`good_id`,`returned_at`);--> statement-breakpoint
DROP INDEX `subscriptions_good`;--> statement-breakpoint
CREATE INDEX `subscriptions_good` ON `subscriptions` (`good_id`,`until`);