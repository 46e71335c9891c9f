-- Ledger entries are append-only: a correction is a new, reversing entry.
CREATE TRIGGER `entries_no_update` BEFORE UPDATE ON `entries`
BEGIN
  SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `entries_no_delete` BEFORE DELETE ON `entries`
BEGIN
  SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
