CREATE TABLE `deployment_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`deployment_id` integer NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`message` text NOT NULL,
	FOREIGN KEY (`deployment_id`) REFERENCES `deployments`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `deployment_events_deployment_idx` ON `deployment_events` (`deployment_id`,`id`);--> statement-breakpoint
CREATE TABLE `deployments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`name` text NOT NULL,
	`model_uri` text NOT NULL,
	`model_name` text NOT NULL,
	`alias` text,
	`version` integer NOT NULL,
	`previous_version` integer,
	`alias_version` integer,
	`image` text NOT NULL,
	`command` text,
	`port` integer DEFAULT 8080 NOT NULL,
	`env` text DEFAULT '{}' NOT NULL,
	`gpus` integer DEFAULT 0 NOT NULL,
	`gpu_memory` integer,
	`cpus` real,
	`memory` integer,
	`replicas` integer DEFAULT 1 NOT NULL,
	`health_path` text DEFAULT '/ping' NOT NULL,
	`readiness_timeout_ms` integer DEFAULT 120000 NOT NULL,
	`public` integer DEFAULT false NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	`ready_at` integer,
	`created_by` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deployments_live_name_idx` ON `deployments` (`name`) WHERE state NOT IN ('stopped', 'failed');--> statement-breakpoint
CREATE INDEX `deployments_name_idx` ON `deployments` (`name`,`id`);--> statement-breakpoint
CREATE INDEX `deployments_project_idx` ON `deployments` (`project_id`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `deployment_id` integer REFERENCES deployments(id);--> statement-breakpoint
ALTER TABLE `jobs` ADD `model_path` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `serve_port` integer;--> statement-breakpoint
CREATE INDEX `jobs_deployment_idx` ON `jobs` (`deployment_id`);