CREATE TABLE `boards` (
	`room_id` integer PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`updated_at` integer NOT NULL,
	`message_id` text,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `room_mutes` (
	`room_id` integer NOT NULL,
	`kind` text NOT NULL,
	`muted_at` integer NOT NULL,
	`muted_by` integer NOT NULL,
	PRIMARY KEY(`room_id`, `kind`),
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`muted_by`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `room_notices` (
	`room_id` integer NOT NULL,
	`task_id` integer NOT NULL,
	`noticed_at` integer NOT NULL,
	PRIMARY KEY(`room_id`, `task_id`),
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
