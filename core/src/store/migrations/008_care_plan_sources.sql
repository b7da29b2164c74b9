-- Deletions of Goals and CarePlans reach the phone (ADR 0008, "Deletions and resources
-- that cannot be used"): the sync now remembers, sealed in `sync_meta`, which Goal set a
-- kind's thresholds (`download/goal-source/<kind>`) and which CarePlans its schedules
-- came from (`download/care-plans`). A phone that downloaded before this version has not
-- remembered them, so its download cursors of both types are forgotten: the next sync
-- reads every Goal and CarePlan of the patient once (applying them again changes
-- nothing) and remembers their ids. No schema change.
DELETE FROM sync_meta WHERE key IN ('cursor/Goal', 'cursor/CarePlan');
