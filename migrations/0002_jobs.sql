CREATE TABLE `job_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` integer NOT NULL,
	`at` integer NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_events_job_idx` ON `job_events` (`job_id`,`id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`image` text NOT NULL,
	`command` text NOT NULL,
	`env` text DEFAULT '{}' NOT NULL,
	`gpus` integer DEFAULT 0 NOT NULL,
	`gpu_memory` integer,
	`cpus` real,
	`memory` integer,
	`priority` integer DEFAULT 0 NOT NULL,
	`time_limit_ms` integer,
	`max_retries` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`snapshot_id` text,
	`state` text DEFAULT 'queued' NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	`gpu_uuids` text DEFAULT '[]' NOT NULL,
	`container_id` text,
	`exit_code` integer,
	`mlflow_run_id` text,
	`submitted_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`not_before` integer,
	`cancel_requested_at` integer,
	`gpu_seconds` real DEFAULT 0 NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jobs_state_idx` ON `jobs` (`state`,`priority`,`submitted_at`);--> statement-breakpoint
CREATE INDEX `jobs_project_idx` ON `jobs` (`project_id`,`submitted_at`);--> statement-breakpoint
CREATE INDEX `jobs_user_idx` ON `jobs` (`user_id`,`submitted_at`);