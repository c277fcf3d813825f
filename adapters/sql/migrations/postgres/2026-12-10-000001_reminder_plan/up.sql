-- Reminders are planned when they fall due, not when a lesson is booked
-- (decision 0032): each plan takes the due times after the last plan's
-- `planned_through` and up to its own, and keeps its own here in the same
-- transaction as the reminders it wrote (NULL until the first plan). One
-- row, there from the start: a planner locks it, so two planners never take
-- the same window.
CREATE TABLE reminder_plan (
    id              smallint PRIMARY KEY CHECK (id = 1),
    planned_through timestamptz
);
INSERT INTO reminder_plan (id, planned_through) VALUES (1, NULL);
