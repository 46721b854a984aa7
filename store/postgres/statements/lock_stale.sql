-- Before a chunk that retires stale tasks writes anything: lock the open
-- task of every candidate, in the lock order, and return the OPEN ones: the
-- retirement budget's measure, and the only tasks retire_stale.sql may
-- dismiss, since a task committed by another call after this lock is not
-- in them. Parameters as in materialize.sql.
--
-- The upsert locks the eligible candidates' tasks and the retirement the
-- others': each in the lock order, but one after the other, two calls that
-- disagree on which keys are eligible could lock them in two orders.
-- Locking every key first, in one order, keeps calls from deadlocking.
WITH {{template "params"}}, {{template "candidates" .}}, {{template "keys" .}}
SELECT id FROM (
{{template "lock open tasks of keys" .}}
) locked
WHERE status = 'OPEN'
