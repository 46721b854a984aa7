package taskhttp

import (
	"io"

	"github.com/actionvector/tasks/taskcreate"
)

// The members of a sweep body: the first two required.
var sweepNames = []string{"organizationId", "workflowRunId", "dryRun"}

// DecodeSweepRequest reads one JSON sweep body from r,
// {"organizationId", "workflowRunId", "dryRun"?}, as strictly as
// DecodeRequest reads a task-create body and with the same errors.
func DecodeSweepRequest(r io.Reader) (taskcreate.SweepRequest, error) {
	req, err := decodeSweepRequest(r)
	if err != nil {
		return taskcreate.SweepRequest{}, err
	}
	return req, nil
}

// decodeSweepRequest is DecodeSweepRequest returning, on error, what it
// decoded so far, for the log.
func decodeSweepRequest(r io.Reader) (taskcreate.SweepRequest, error) {
	d := newBodyDecoder(r)
	var req taskcreate.SweepRequest
	d.body(sweepNames, 2, func(_ int, p jsonPath) (present bool) {
		switch p.field {
		case "organizationId":
			req.OrganizationID, present = d.stringValue(p, true)
		case "workflowRunId":
			req.WorkflowRunID, present = d.stringValue(p, true)
		case "dryRun":
			req.DryRun, present = d.boolValue(p)
		}
		return present
	})
	return req, d.err()
}
