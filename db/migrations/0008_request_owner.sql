ALTER TABLE `member_notes` ADD `platform` text;--> statement-breakpoint
ALTER TABLE `member_notes` ADD `external_id` text;--> statement-breakpoint
ALTER TABLE `replies` ADD `user_id` text;--> statement-breakpoint
ALTER TABLE `replies` ADD `fingerprint` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `fingerprint` text;