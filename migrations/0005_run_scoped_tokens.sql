ALTER TABLE `api_tokens` ADD `run_uuid` text;--> statement-breakpoint
CREATE INDEX `api_tokens_run_idx` ON `api_tokens` (`run_uuid`);