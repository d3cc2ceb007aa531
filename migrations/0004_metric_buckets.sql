CREATE TABLE `metric_buckets` (
	`run_uuid` text NOT NULL,
	`bucket` integer NOT NULL,
	`key` text NOT NULL,
	`count` integer NOT NULL,
	`first_step` integer NOT NULL,
	`first_timestamp` integer NOT NULL,
	`first_value` real,
	`last_step` integer NOT NULL,
	`last_timestamp` integer NOT NULL,
	`last_value` real,
	`min_value` real,
	`min_value_step` integer,
	`max_value` real,
	`max_value_step` integer,
	PRIMARY KEY(`run_uuid`, `bucket`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `metric_buckets_series_idx` ON `metric_buckets` (`run_uuid`,`key`,`bucket`);
--> statement-breakpoint
-- The rollups of the points logged before this migration, by the rules the ingest keeps (src/tracking/metric-rollup.ts):
-- first and last in history order (step, timestamp, then as logged), min and max of the finite values at their lowest
-- step. The first and last points and the extremes' steps are looked up through the index on (run_uuid, key, step,
-- timestamp): a window over the whole table would sort it.
INSERT INTO `metric_buckets` (`run_uuid`, `bucket`, `key`, `count`, `first_step`, `first_timestamp`, `first_value`,
	`last_step`, `last_timestamp`, `last_value`, `min_value`, `min_value_step`, `max_value`, `max_value_step`)
SELECT g.`run_uuid`, g.`bucket`, g.`key`, g.`count`, f.`step`, f.`timestamp`, f.`value`, z.`step`, z.`timestamp`, z.`value`,
	g.`min_value`, (SELECT min(`step`) FROM `metrics` WHERE `run_uuid` = g.`run_uuid` AND `key` = g.`key`
		AND `step` BETWEEN g.`first_step` AND g.`last_step` AND `value` = g.`min_value`),
	g.`max_value`, (SELECT min(`step`) FROM `metrics` WHERE `run_uuid` = g.`run_uuid` AND `key` = g.`key`
		AND `step` BETWEEN g.`first_step` AND g.`last_step` AND `value` = g.`max_value`)
FROM (
	SELECT `run_uuid`, `key`, `step` >> 8 AS `bucket`, count(*) AS `count`, min(`step`) AS `first_step`, max(`step`) AS `last_step`,
		min(CASE WHEN `value` BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN `value` END) AS `min_value`,
		max(CASE WHEN `value` BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN `value` END) AS `max_value`
	FROM `metrics` GROUP BY `run_uuid`, `key`, `step` >> 8
) g
JOIN `metrics` f ON f.`rowid` = (SELECT `rowid` FROM `metrics` WHERE `run_uuid` = g.`run_uuid` AND `key` = g.`key` AND `step` = g.`first_step`
	ORDER BY `timestamp`, `rowid` LIMIT 1)
JOIN `metrics` z ON z.`rowid` = (SELECT `rowid` FROM `metrics` WHERE `run_uuid` = g.`run_uuid` AND `key` = g.`key` AND `step` = g.`last_step`
	ORDER BY `timestamp` DESC, `rowid` DESC LIMIT 1);
