CREATE TABLE `claims` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`weight` integer NOT NULL,
	`status` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`reported_at` integer,
	`reported_hours` integer,
	`note` text,
	`reject_reason` text,
	`verified_at` integer,
	`verified_by` integer,
	`credited_hours` integer,
	`credited` integer,
	`entry_id` integer,
	`ended_at` integer,
	`ended_by` integer,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`verified_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`entry_id`) REFERENCES `entries`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`ended_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `claims_task` ON `claims` (`task_id`);--> statement-breakpoint
CREATE INDEX `claims_member` ON `claims` (`member_id`);--> statement-breakpoint
CREATE INDEX `claims_open` ON `claims` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `kind_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind_id` integer NOT NULL,
	`before` integer,
	`after` integer NOT NULL,
	`reason` text NOT NULL,
	`task_id` integer,
	`member_id` integer,
	`at` integer NOT NULL,
	FOREIGN KEY (`kind_id`) REFERENCES `kinds`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `kind_changes_kind` ON `kind_changes` (`kind_id`,`at`);--> statement-breakpoint
CREATE TABLE `kinds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` integer NOT NULL,
	`name` text NOT NULL,
	`weight` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`pool_id`) REFERENCES `pools`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `kinds_pool_name` ON `kinds` (`pool_id`,`name`);--> statement-breakpoint
CREATE TABLE `member_notes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`kind` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`delivered_at` integer,
	FOREIGN KEY (`pool_id`) REFERENCES `pools`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `member_notes_pending` ON `member_notes` (`member_id`,`delivered_at`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` integer NOT NULL,
	`project_id` integer NOT NULL,
	`kind_id` integer NOT NULL,
	`title` text NOT NULL,
	`estimate` integer NOT NULL,
	`slots` integer NOT NULL,
	`posted_weight` integer NOT NULL,
	`posted_at` integer NOT NULL,
	`posted_by` integer NOT NULL,
	`due_at` integer,
	`open_since` integer,
	`open_ms` integer NOT NULL,
	`cancelled_at` integer,
	`cancelled_by` integer,
	FOREIGN KEY (`pool_id`) REFERENCES `pools`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`kind_id`) REFERENCES `kinds`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`posted_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`cancelled_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tasks_pool` ON `tasks` (`pool_id`);--> statement-breakpoint
CREATE INDEX `tasks_project` ON `tasks` (`project_id`);--> statement-breakpoint
CREATE TABLE `waitlist` (
	`task_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `waitlist_task_member` ON `waitlist` (`task_id`,`member_id`);