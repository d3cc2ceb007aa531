CREATE TABLE `async_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`deployment` text NOT NULL,
	`project_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`content_type` text,
	`body` blob NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`not_before` integer NOT NULL,
	`response_status` integer,
	`response_content_type` text,
	`response_body` blob,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `async_requests_queue_idx` ON `async_requests` (`state`,`deployment`);--> statement-breakpoint
CREATE INDEX `async_requests_finished_idx` ON `async_requests` (`finished_at`);