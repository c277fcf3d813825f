-- Every booking and cancellation rewrites its slot's row (booked_count,
-- status). With full pages Postgres must put the new version on another
-- page: a new entry in each of the slot's five indexes, the GiST exclusion
-- index's overlap check included, and dead entries that later reads step
-- over. With room left on the page the update stays on it (a HOT update)
-- and touches no index, as long as no indexed column changes
-- (docs/performance.md, "Room for slot updates"). Applies to pages written
-- from now on; VACUUM FULL applies it to the old ones.
ALTER TABLE slots SET (fillfactor = 70);
