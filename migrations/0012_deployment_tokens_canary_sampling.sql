CREATE TABLE `request_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`deployment_id` integer NOT NULL,
	`at` integer NOT NULL,
	`version` integer NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`status` integer NOT NULL,
	`latency_ms` real NOT NULL,
	`request_content_type` text,
	`request_body` blob NOT NULL,
	`request_bytes` integer NOT NULL,
	`request_truncated` integer NOT NULL,
	`response_content_type` text,
	`response_body` blob NOT NULL,
	`response_bytes` integer NOT NULL,
	`response_truncated` integer NOT NULL,
	FOREIGN KEY (`deployment_id`) REFERENCES `deployments`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `request_samples_deployment_idx` ON `request_samples` (`deployment_id`,`id`);--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `deployment_project_id` integer REFERENCES projects(id) ON DELETE cascade;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `deployment_name` text;--> statement-breakpoint
CREATE INDEX `api_tokens_deployment_idx` ON `api_tokens` (`deployment_project_id`,`deployment_name`);--> statement-breakpoint
ALTER TABLE `deployments` ADD `canary_weight` integer;--> statement-breakpoint
ALTER TABLE `deployments` ADD `sample_rate` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `deployments` ADD `sample_max_bytes` integer DEFAULT 65536 NOT NULL;