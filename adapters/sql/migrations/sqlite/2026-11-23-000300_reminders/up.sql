-- Lesson reminders: one row per (slot, recipient, channel, lead), planned from
-- booking events, claimed by the scheduler with a lease like the outbox.
CREATE TABLE reminders (
    id           TEXT PRIMARY KEY NOT NULL,
    slot_id      TEXT NOT NULL REFERENCES slots (id),
    -- The student's booking; NULL for the teacher's reminder.
    booking_id   TEXT REFERENCES bookings (id),
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    lead_minutes INTEGER NOT NULL CHECK (lead_minutes > 0),
    due_at       BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE UNIQUE INDEX reminders_key ON reminders (slot_id, recipient_id, channel, lead_minutes);
CREATE INDEX reminders_due ON reminders (due_at, id) WHERE status = 'pending';
