CREATE TABLE `allocations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`request_id` integer NOT NULL,
	`round_id` integer,
	`member_id` integer NOT NULL,
	`qty` integer NOT NULL,
	`effort` integer NOT NULL,
	`weight` integer NOT NULL,
	`cost` integer NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`request_id`) REFERENCES `good_requests`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`round_id`) REFERENCES `rounds`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `allocations_good` ON `allocations` (`good_id`,`at`);--> statement-breakpoint
CREATE TABLE `good_requests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`qty` integer NOT NULL,
	`filled` integer NOT NULL,
	`weight` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`closed_at` integer,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `good_requests_good` ON `good_requests` (`good_id`,`status`);--> statement-breakpoint
CREATE TABLE `goods` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` integer NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`unit` text NOT NULL,
	`model` text NOT NULL,
	`sector` text,
	`declared_effort` integer NOT NULL,
	`stock` integer NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` integer NOT NULL,
	FOREIGN KEY (`pool_id`) REFERENCES `pools`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "goods_stock_non_negative" CHECK("goods"."stock" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `goods_pool_name` ON `goods` (`pool_id`,`name`);--> statement-breakpoint
CREATE TABLE `loans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`borrowed_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`returned_at` integer,
	`charged` integer,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `loans_good` ON `loans` (`good_id`);--> statement-breakpoint
CREATE TABLE `productions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`qty` integer NOT NULL,
	`effort` integer NOT NULL,
	`at` integer NOT NULL,
	`by` integer NOT NULL,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `productions_good` ON `productions` (`good_id`,`at`);--> statement-breakpoint
CREATE TABLE `rounds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`opened_at` integer NOT NULL,
	`closes_at` integer NOT NULL,
	`closed_at` integer,
	`clearing_weight` integer,
	`supply` integer,
	`allocated` integer,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `rounds_good` ON `rounds` (`good_id`);--> statement-breakpoint
CREATE INDEX `rounds_due` ON `rounds` (`closed_at`,`closes_at`);--> statement-breakpoint
CREATE TABLE `settlements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`period_start` integer NOT NULL,
	`period_end` integer NOT NULL,
	`effort` integer NOT NULL,
	`subscribers` integer NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `settlements_good_period` ON `settlements` (`good_id`,`period_start`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`good_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`since` integer NOT NULL,
	`until` integer,
	FOREIGN KEY (`good_id`) REFERENCES `goods`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `subscriptions_good` ON `subscriptions` (`good_id`);--> statement-breakpoint
ALTER TABLE `tasks` ADD `good_id` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `good_qty` integer;--> statement-breakpoint
CREATE INDEX `tasks_good` ON `tasks` (`good_id`);