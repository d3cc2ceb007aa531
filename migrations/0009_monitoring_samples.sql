CREATE TABLE `container_samples` (
	`resolution` integer NOT NULL,
	`at` integer NOT NULL,
	`samples` integer NOT NULL,
	`job_id` integer NOT NULL,
	`deployment_id` integer,
	`cpu` real,
	`memory_bytes` real,
	`gpu_memory_bytes` real,
	PRIMARY KEY(`resolution`, `job_id`, `at`)
);
--> statement-breakpoint
CREATE INDEX `container_samples_time_idx` ON `container_samples` (`resolution`,`at`);--> statement-breakpoint
CREATE INDEX `container_samples_deployment_idx` ON `container_samples` (`resolution`,`deployment_id`,`at`) WHERE deployment_id IS NOT NULL;--> statement-breakpoint
CREATE TABLE `gpu_samples` (
	`resolution` integer NOT NULL,
	`at` integer NOT NULL,
	`samples` integer NOT NULL,
	`gpu_uuid` text NOT NULL,
	`utilization` real,
	`memory_used` real,
	`memory_total` real,
	`temperature` real,
	`power_draw` real,
	`power_limit` real,
	PRIMARY KEY(`resolution`, `gpu_uuid`, `at`)
);
--> statement-breakpoint
CREATE INDEX `gpu_samples_time_idx` ON `gpu_samples` (`resolution`,`at`);--> statement-breakpoint
CREATE TABLE `host_samples` (
	`resolution` integer NOT NULL,
	`at` integer NOT NULL,
	`samples` integer NOT NULL,
	`cpu` real,
	`load1` real,
	`memory_used` real,
	`memory_total` real,
	`disk_used` real,
	`disk_total` real,
	`net_rx_bytes_per_second` real,
	`net_tx_bytes_per_second` real,
	PRIMARY KEY(`resolution`, `at`)
);
--> statement-breakpoint
CREATE TABLE `monitoring_rollups` (
	`resolution` integer PRIMARY KEY NOT NULL,
	`rolled_until` integer NOT NULL
);
