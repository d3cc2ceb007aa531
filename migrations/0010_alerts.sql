CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule` text NOT NULL,
	`subject` text NOT NULL,
	`severity` text NOT NULL,
	`project_id` integer,
	`message` text NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`fired_at` integer NOT NULL,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_open_idx` ON `alerts` (`rule`,`subject`) WHERE resolved_at IS NULL;--> statement-breakpoint
CREATE INDEX `alerts_resolved_idx` ON `alerts` (`resolved_at`);