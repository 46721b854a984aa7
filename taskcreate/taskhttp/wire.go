package taskhttp

import (
	"time"

	"github.com/actionvector/tasks/taskcreate"
)

// Path is the canonical path of the endpoint.
const Path = "/api/data-platform/workflow-actions/task-create"

// RequestBody is the JSON body of a request, for clients that send one.
// A nil Domains or Perimeter encodes as null, which the endpoint rejects as
// missing; send empty slices instead. The perimeter is encoded last, so
// that a request over the service's limits is refused before it is sent
// whole (see DecodeRequestWithLimits).
type RequestBody struct {
	OrganizationID string              `json:"organizationId"`
	WorkflowRunID  string              `json:"workflowRunId"`
	Domains        []taskcreate.Domain `json:"domains"`
	MinConfidence  float64             `json:"minConfidence"`
	DryRun         bool                `json:"dryRun,omitempty"`
	ReturnOutcomes bool                `json:"returnOutcomes,omitempty"`
	RetireStale    bool                `json:"retireStale,omitempty"`
	// MaxRetireFraction replaces the service's retirement budget for the call.
	MaxRetireFraction *float64 `json:"maxRetireFraction,omitempty"`
	// SnapshotDate pins the snapshot read, "YYYY-MM-DD"; empty: the latest.
	SnapshotDate string `json:"snapshotDate,omitempty"`
	Perimeter    []Pair `json:"perimeter"`
}

// Pair is one position of a perimeter on the wire.
type Pair struct {
	VariantID string `json:"variantId"`
	ShopID    string `json:"shopId"`
}

// NewRequestBody returns the wire form of req. Nil slices become empty ones,
// so that a request the service accepts is also accepted over HTTP.
func NewRequestBody(req taskcreate.Request) RequestBody {
	b := RequestBody{
		OrganizationID:    req.OrganizationID,
		WorkflowRunID:     req.WorkflowRunID,
		Domains:           append([]taskcreate.Domain{}, req.Domains...),
		MinConfidence:     req.MinConfidence,
		Perimeter:         make([]Pair, len(req.Perimeter)),
		DryRun:            req.DryRun,
		ReturnOutcomes:    req.ReturnOutcomes,
		RetireStale:       req.RetireStale,
		MaxRetireFraction: req.MaxRetireFraction,
	}
	if !req.SnapshotDate.IsZero() {
		b.SnapshotDate = req.SnapshotDate.Format(time.DateOnly)
	}
	for i, p := range req.Perimeter {
		b.Perimeter[i] = Pair{VariantID: p.VariantID, ShopID: p.ShopID}
	}
	return b
}

// Response is the envelope of every response: Data on success; Error,
// ErrorCode and FieldErrors on failure.
type Response struct {
	Success     bool          `json:"success"`
	Data        *ResponseData `json:"data,omitempty"`
	Error       string        `json:"error,omitempty"`
	ErrorCode   string        `json:"errorCode,omitempty"`
	FieldErrors []FieldError  `json:"fieldErrors,omitempty"`
	// Retire says why a call was refused with RETIRE_BUDGET_EXCEEDED.
	Retire *RetireRefusal `json:"retire,omitempty"`
}

// RetireRefusal is a *taskcreate.RetireBudgetError on the wire: the call
// would have retired WouldRetire of Open OPEN tasks, more than Budget
// allows.
type RetireRefusal struct {
	WouldRetire int     `json:"wouldRetire"`
	Open        int     `json:"open"`
	Budget      float64 `json:"budget"`
}

// ResponseData is the result of a successful call on the wire.
type ResponseData struct {
	Created       int    `json:"created"`
	Updated       int    `json:"updated"`
	Suppressed    int    `json:"suppressed"`
	Skipped       int    `json:"skipped"`
	Unmatched     int    `json:"unmatched"`
	SuccessCode   string `json:"successCode"`
	WorkflowRunID string `json:"workflowRunId"`
	// Retired is there when the request asked for retireStale.
	Retired *int `json:"retired,omitempty"`
	// Outcomes is there when the request asked for returnOutcomes.
	Outcomes *[]Outcome `json:"outcomes,omitempty"`
}

// Outcome is what a call did with one candidate, on the wire: outcome is
// one of "created", "updated", "suppressed", "skipped", "unmatched"; taskId
// is there when a task was created, updated or retired (a dry run has none
// for a task it would create); retired is there, true, when the
// candidate's OPEN task was retired.
type Outcome struct {
	Domain    taskcreate.Domain `json:"domain"`
	ShopID    string            `json:"shopId"`
	VariantID string            `json:"variantId"`
	Outcome   string            `json:"outcome"`
	TaskID    string            `json:"taskId,omitempty"`
	Retired   bool              `json:"retired,omitempty"`
}

// SweepPath is the canonical path of the sweep endpoint.
const SweepPath = "/api/data-platform/workflow-actions/task-sweep"

// SweepRequestBody is the JSON body of a sweep request.
type SweepRequestBody struct {
	OrganizationID string `json:"organizationId"`
	WorkflowRunID  string `json:"workflowRunId"`
	DryRun         bool   `json:"dryRun,omitempty"`
}

// SweepResponse is the envelope of a successful sweep; failures use
// Response.
type SweepResponse struct {
	Success bool               `json:"success"`
	Data    *SweepResponseData `json:"data"`
}

// SweepResponseData is the result of a successful sweep on the wire.
type SweepResponseData struct {
	Dismissed     int    `json:"dismissed"`
	SuccessCode   string `json:"successCode"`
	WorkflowRunID string `json:"workflowRunId"`
}

// FieldError is one problem with one field of the request body, named by
// its JSON path ("" for the body as a whole).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}
