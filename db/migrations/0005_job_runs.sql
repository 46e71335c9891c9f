CREATE TABLE `job_runs` (
	`job` text NOT NULL,
	`slot` integer NOT NULL,
	`ran_at` integer NOT NULL,
	`outcome` text NOT NULL,
	PRIMARY KEY(`job`, `slot`)
);
