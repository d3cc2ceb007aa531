CREATE TABLE `experiment_tags` (
	`experiment_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`experiment_id`, `key`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `experiments` (
	`id` integer PRIMARY KEY NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`artifact_location` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_update_time` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_name_unique` ON `experiments` (`name`);--> statement-breakpoint
CREATE INDEX `experiments_project_idx` ON `experiments` (`project_id`);--> statement-breakpoint
CREATE TABLE `latest_metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` real,
	`timestamp` integer NOT NULL,
	`step` integer NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `latest_metrics_key_idx` ON `latest_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `logged_model_params` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_model_tags` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_models` (
	`model_id` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`artifact_uri` text NOT NULL,
	`status` text NOT NULL,
	`status_message` text,
	`model_type` text DEFAULT '' NOT NULL,
	`source_run_id` text,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_timestamp_ms` integer NOT NULL,
	`last_updated_timestamp_ms` integer NOT NULL,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `logged_models_experiment_idx` ON `logged_models` (`experiment_id`);--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` real,
	`timestamp` integer NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	`model_id` text,
	`dataset_name` text,
	`dataset_digest` text,
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `metrics_run_key_step_idx` ON `metrics` (`run_uuid`,`key`,`step`,`timestamp`);--> statement-breakpoint
CREATE TABLE `params` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `params_key_idx` ON `params` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `run_inputs` (
	`run_uuid` text NOT NULL,
	`name` text NOT NULL,
	`digest` text NOT NULL,
	`source_type` text NOT NULL,
	`source` text NOT NULL,
	`schema` text,
	`profile` text,
	`tags` text DEFAULT '[]' NOT NULL,
	PRIMARY KEY(`run_uuid`, `name`, `digest`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `run_outputs` (
	`run_uuid` text NOT NULL,
	`model_id` text NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_uuid`, `model_id`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `run_tags` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `run_tags_key_idx` ON `run_tags` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `runs` (
	`run_uuid` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`user_id` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`start_time` integer,
	`end_time` integer,
	`artifact_uri` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`deleted_time` integer,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_experiment_idx` ON `runs` (`experiment_id`,`start_time`);--> statement-breakpoint
CREATE TABLE `model_version_tags` (
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `version`, `key`),
	FOREIGN KEY (`model_id`,`version`) REFERENCES `model_versions`(`model_id`,`version`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `model_versions` (
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`user_id` text DEFAULT '' NOT NULL,
	`current_stage` text DEFAULT 'None' NOT NULL,
	`source` text NOT NULL,
	`run_id` text DEFAULT '' NOT NULL,
	`run_link` text DEFAULT '' NOT NULL,
	`storage_location` text NOT NULL,
	`logged_model_id` text,
	`status` text DEFAULT 'READY' NOT NULL,
	`status_message` text,
	`creation_timestamp` integer NOT NULL,
	`last_updated_timestamp` integer NOT NULL,
	PRIMARY KEY(`model_id`, `version`),
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `model_versions_run_idx` ON `model_versions` (`run_id`);--> statement-breakpoint
CREATE TABLE `registered_model_aliases` (
	`model_id` integer NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`model_id`, `alias`),
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registered_model_tags` (
	`model_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `registered_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registered_models` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`creation_timestamp` integer NOT NULL,
	`last_updated_timestamp` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registered_models_name_unique` ON `registered_models` (`name`);--> statement-breakpoint
CREATE INDEX `registered_models_project_idx` ON `registered_models` (`project_id`);