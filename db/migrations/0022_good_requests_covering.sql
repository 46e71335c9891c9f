DROP INDEX `good_requests_good`;--> statement-breakpoint
CREATE INDEX `good_requests_good` ON `good_requests` (`good_id`,`status`,`member_id`);