-- A package's own booking policy (docs/product.md §8), as JSON; NULL: its
-- teacher's policy applies.
ALTER TABLE packages ADD COLUMN policy TEXT;
