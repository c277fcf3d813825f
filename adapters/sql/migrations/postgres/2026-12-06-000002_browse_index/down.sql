DROP INDEX slots_browse;
