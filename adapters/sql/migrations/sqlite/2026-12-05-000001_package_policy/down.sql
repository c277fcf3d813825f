ALTER TABLE packages DROP COLUMN policy;
