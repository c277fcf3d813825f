DROP TABLE reminder_plan;
