ALTER TABLE `pools` ADD `clock` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Existing pools start at the latest time they already hold: their rows' times and the scheduler's latest run.
UPDATE `pools` SET `clock` = max(
  `created_at`,
  coalesce((SELECT max(`slot`) FROM `job_runs`), 0),
  coalesce((SELECT max(`created_at`) FROM `entries` WHERE `pool_id` = `pools`.`id`), 0),
  coalesce((SELECT max(`joined_at`) FROM `memberships` WHERE `pool_id` = `pools`.`id`), 0),
  coalesce((SELECT max(`bound_at`) FROM `rooms` WHERE `pool_id` = `pools`.`id`), 0),
  coalesce((SELECT max(max(`created_at`, coalesce(`done_at`, 0))) FROM `goals` WHERE `pool_id` = `pools`.`id`), 0),
  coalesce((SELECT max(max(`posted_at`, coalesce(`cancelled_at`, 0))) FROM `tasks` WHERE `pool_id` = `pools`.`id`), 0),
  coalesce((SELECT max(max(`claimed_at`, coalesce(`reported_at`, 0), coalesce(`verified_at`, 0), coalesce(`ended_at`, 0))) FROM `claims` WHERE `task_id` IN (SELECT `id` FROM `tasks` WHERE `pool_id` = `pools`.`id`)), 0),
  coalesce((SELECT max(max(`created_at`, coalesce(`closed_at`, 0))) FROM `good_requests` WHERE `good_id` IN (SELECT `id` FROM `goods` WHERE `pool_id` = `pools`.`id`)), 0),
  coalesce((SELECT max(max(`borrowed_at`, coalesce(`returned_at`, 0))) FROM `loans` WHERE `good_id` IN (SELECT `id` FROM `goods` WHERE `pool_id` = `pools`.`id`)), 0),
  coalesce((SELECT max(`at`) FROM `productions` WHERE `good_id` IN (SELECT `id` FROM `goods` WHERE `pool_id` = `pools`.`id`)), 0),
  coalesce((SELECT max(`created_at`) FROM `member_notes` WHERE `pool_id` = `pools`.`id`), 0)
);
