-- $1 status, $2 now, $3 organization, $4 task id.
UPDATE {{.Tasks}}
SET status = $1::text, updated_at = $2::timestamptz
WHERE organization_id = $3::text AND id = $4::uuid
