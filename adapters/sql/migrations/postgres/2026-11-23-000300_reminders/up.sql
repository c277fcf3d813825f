-- Lesson reminders: one row per (slot, recipient, channel, lead), planned from
-- booking events, claimed by the scheduler with a lease like the outbox.
CREATE TABLE reminders (
    id           uuid PRIMARY KEY,
    slot_id      uuid NOT NULL REFERENCES slots (id),
    -- The student's booking; NULL for the teacher's reminder.
    booking_id   uuid REFERENCES bookings (id),
    recipient_id uuid NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('email', 'push')),
    lead_minutes integer NOT NULL CHECK (lead_minutes > 0),
    due_at       timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);
CREATE UNIQUE INDEX reminders_key ON reminders (slot_id, recipient_id, channel, lead_minutes);
CREATE INDEX reminders_due ON reminders (due_at, id) WHERE status = 'pending';
