DROP INDEX `rounds_good`;--> statement-breakpoint
CREATE INDEX `rounds_good` ON `rounds` (`good_id`,`closed_at`);