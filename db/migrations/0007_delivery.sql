CREATE TABLE `replies` (
	`request_id` text PRIMARY KEY NOT NULL,
	`platform` text NOT NULL,
	`target` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`delivered_at` integer,
	`claimed_by` text,
	`claimed_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`failed_at` integer,
	`failure` text
);
--> statement-breakpoint
CREATE INDEX `replies_undelivered` ON `replies` (`platform`,`delivered_at`);--> statement-breakpoint
ALTER TABLE `member_notes` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `member_notes` ADD `claimed_until` integer;--> statement-breakpoint
ALTER TABLE `member_notes` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `member_notes` ADD `failed_at` integer;--> statement-breakpoint
ALTER TABLE `member_notes` ADD `failure` text;--> statement-breakpoint
CREATE INDEX `member_notes_undelivered` ON `member_notes` (`delivered_at`,`id`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `claimed_until` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outbox` ADD `failed_at` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `failure` text;--> statement-breakpoint
CREATE INDEX `outbox_undelivered` ON `outbox` (`delivered_at`,`id`);--> statement-breakpoint
ALTER TABLE `rooms` ADD `unreachable_since` integer;