CREATE TABLE `job_usage_daily` (
	`job_id` integer NOT NULL,
	`day` text NOT NULL,
	`gpu_seconds_used` real DEFAULT 0 NOT NULL,
	`gpu_seconds_measured` real DEFAULT 0 NOT NULL,
	`cpu_seconds` real DEFAULT 0 NOT NULL,
	`memory_byte_seconds` real DEFAULT 0 NOT NULL,
	`sampled_seconds` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`job_id`, `day`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_usage_daily_day_idx` ON `job_usage_daily` (`day`);