CREATE TABLE `project_security_policies` (
	`project_id` integer PRIMARY KEY NOT NULL,
	`allow_privileged` integer DEFAULT false NOT NULL,
	`allow_host_network` integer DEFAULT false NOT NULL,
	`allowed_host_paths` text DEFAULT '[]' NOT NULL,
	`allowed_capabilities` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `jobs` ADD `privileged` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `host_network` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `mounts` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `capabilities` text DEFAULT '[]' NOT NULL;