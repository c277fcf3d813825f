ALTER TABLE slots RESET (fillfactor);
